package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.cluster.PipelineCluster;
import io.conveyor.podtest.cluster.SharedPipelineCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The examples' demo pipeline ({@code examples/pipelines/demo.yaml}) across three pods: the demo
 * source, the demo transform and the demo sink, each with its injected sidecar. Records cross two
 * pod-to-pod hops over mutual TLS; the transform filters every tenth, and the sink receives every
 * other one exactly as the filter rule says: lost 0, none it should not have.
 */
@Tag(PodsTier.TAG)
@ExtendWith(SharedPipelineCluster.class)
class ThreePodPipelineTest {

  private static final String NS = "shop-demo";
  private static final long RECORDS = 20_000;
  private static final int FILTER_PERIOD = 10; // the transform's default
  private static final Duration AT_MOST = Duration.ofSeconds(180);
  private static final Logger log = LoggerFactory.getLogger(ThreePodPipelineTest.class);

  @Test
  void theDemoPipelinesRecordsCrossSourceTransformAndSinkPods(PipelineCluster cluster)
      throws Exception {
    try (PipelineCluster.Scenario shop = cluster.scenario(NS)) {
      shop.pipeline(Path.of("..", "examples", "pipelines", "demo.yaml"));
      RunningPod sink = shop.run("/deploy/demo-sink.yaml", Map.of());
      RunningPod transform = shop.run("/deploy/demo-transform.yaml", Map.of());
      RunningPod source =
          shop.run("/deploy/demo-source.yaml", Map.of("RECORDS", Long.toString(RECORDS)));
      shop.check(
          () -> {
            await()
                .atMost(AT_MOST)
                .until(() -> sink.ready() && transform.ready() && source.ready());
            String outcome = PipelineCluster.awaitSourceOutcome(source, AT_MOST);
            log.info("source pod {}: {}", source.name(), outcome);
            long filtered = RECORDS / FILTER_PERIOD;
            assertThat(outcome)
                .startsWith("demo-source: done produced=" + RECORDS)
                .contains(" delivered=" + (RECORDS - filtered) + " filtered=" + filtered + " ")
                .contains(" failed=0 ");
            JsonNode stats = PipelineCluster.sinkStats(sink, RECORDS, FILTER_PERIOD);
            log.info("sink pod {} /stats: {}", sink.name(), stats);
            assertThat(stats.path("expected").asLong()).isEqualTo(RECORDS - filtered);
            assertThat(stats.path("delivered_expected").asLong())
                .as(stats.toString())
                .isEqualTo(RECORDS - filtered);
            assertThat(stats.path("lost").asLong(-1)).as(stats.toString()).isZero();
            assertThat(stats.path("filtered_received").asLong(-1)).as(stats.toString()).isZero();
            assertThat(stats.path("beyond_sent").asLong(-1)).as(stats.toString()).isZero();
            for (RunningPod pod : new RunningPod[] {source, transform, sink}) {
              assertThat(pod.status(PipelineCluster.SIDECAR).restartCount()).isZero();
            }
          });
    }
  }
}

package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.cluster.PipelineCluster;
import io.conveyor.podtest.cluster.SharedPipelineCluster;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 13, scenario 3: both injected sidecars under the memory limit the webhook gives them (192
 * MiB, a cgroup limit here as under a kubelet) for a minute of steady load from the source pod to
 * the sink pod. Neither is OOM-killed (the cgroup's {@code oom_kill} count stays 0 and neither
 * container restarts), nothing is lost, and each sidecar's resident set and its cgroup's peak usage
 * are reported in the test output.
 */
@Tag(PodsTier.TAG)
@ExtendWith(SharedPipelineCluster.class)
class SidecarMemoryPodsTest {

  private static final String NS = "shop-memory";
  private static final long RATE = 3_000;
  private static final long RECORDS = 180_000; // a minute at RATE
  private static final String RECORD_BYTES = "512";
  private static final long SIDECAR_LIMIT = 192L << 20; // the webhook's default
  private static final Duration AT_MOST = Duration.ofSeconds(180);
  private static final Logger log = LoggerFactory.getLogger(SidecarMemoryPodsTest.class);

  @Test
  void bothSidecarsCarryAMinuteOfLoadUnderTheirInjectedMemoryLimitWithoutAnOomKill(
      PipelineCluster cluster) throws Exception {
    try (PipelineCluster.Scenario shop = cluster.scenario(NS)) {
      shop.pipeline("/deploy/pipeline-source-to-sink.yaml");
      RunningPod sink = shop.run("/deploy/demo-sink.yaml", Map.of());
      RunningPod source =
          shop.run(
              "/deploy/demo-source.yaml",
              Map.of(
                  "RECORDS",
                  Long.toString(RECORDS),
                  "RATE",
                  Long.toString(RATE),
                  "RECORD_BYTES",
                  RECORD_BYTES));
      shop.check(
          () -> {
            await().atMost(AT_MOST).until(() -> sink.ready() && source.ready());
            for (RunningPod pod : new RunningPod[] {source, sink}) {
              assertThat(pod.memory(PipelineCluster.SIDECAR).limitBytes())
                  .as("the injected limit is the container's cgroup limit")
                  .isEqualTo(SIDECAR_LIMIT);
            }
            String outcome = PipelineCluster.awaitSourceOutcome(source, AT_MOST);
            log.info("source pod {}: {}", source.name(), outcome);
            // Read while the containers still run: a stopped container's cgroup is gone.
            for (RunningPod pod : new RunningPod[] {source, sink}) {
              MemoryFigures memory = pod.memory(PipelineCluster.SIDECAR);
              log.info(
                  "sidecar of {} after {} records of {} bytes: {}",
                  pod.name(),
                  RECORDS,
                  RECORD_BYTES,
                  memory.describe());
              assertThat(memory.oomKills()).as(pod.name() + " " + memory.describe()).isZero();
              assertThat(memory.maxUsageBytes())
                  .as(pod.name() + " " + memory.describe())
                  .isLessThanOrEqualTo(SIDECAR_LIMIT);
              ContainerStatus status = pod.status(PipelineCluster.SIDECAR);
              assertThat(status.restartCount()).as(status.toString()).isZero();
              assertThat(status.running()).as(status.toString()).isTrue();
            }
            assertThat(outcome)
                .startsWith("demo-source: done produced=" + RECORDS)
                .contains(" failed=0 ");
            JsonNode stats = PipelineCluster.sinkStats(sink, RECORDS, 0);
            log.info("sink pod {} /stats: {}", sink.name(), stats);
            assertThat(stats.path("lost").asLong(-1)).as(stats.toString()).isZero();
            assertThat(stats.path("delivered").asLong()).as(stats.toString()).isEqualTo(RECORDS);
          });
    }
  }
}

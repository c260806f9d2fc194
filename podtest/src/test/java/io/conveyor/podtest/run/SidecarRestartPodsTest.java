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
 * Issue 13, scenario 2: each pod's injected sidecar is killed (SIGKILL) in turn while records flow,
 * first the source pod's, then, once it serves again, the sink pod's, and the runner starts each
 * again as a kubelet does under the native sidecar's {@code restartPolicy: Always}: a new container
 * process in the same pod network namespace, with the same volumes (token, trust bundle, /tmp), at
 * once (a container's first exit has no back-off) once its startup probe passes. The apps keep
 * running; the source's unacknowledged batches are re-sent once its new sidecar serves, and the
 * batches bound for the dead sink sidecar are retried until the new one has registered; nothing is
 * lost, and the duplicates that at-least-once delivery allows are counted by the sink and reported.
 */
@Tag(PodsTier.TAG)
@ExtendWith(SharedPipelineCluster.class)
class SidecarRestartPodsTest {

  private static final String NS = "shop-restart";
  // Small batches at a steady rate: some are always in flight when the sidecar dies.
  private static final long RATE = 4_000;
  private static final long BATCH_SIZE = 100;
  private static final long RECORDS = 100_000; // 25 s at RATE: both kills land mid-traffic
  private static final Duration AT_MOST = Duration.ofSeconds(180);
  private static final Logger log = LoggerFactory.getLogger(SidecarRestartPodsTest.class);

  @Test
  void eachSidecarKilledMidTrafficIsRestartedInPlaceAndNothingIsLost(PipelineCluster cluster)
      throws Exception {
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
                  "BATCH_SIZE",
                  Long.toString(BATCH_SIZE)));
      shop.check(
          () -> {
            await().atMost(AT_MOST).until(() -> sink.ready() && source.ready());
            // Mid-traffic: a quarter of the records are at the sink, most are still to come.
            awaitDelivered(sink, RECORDS / 4);
            killAndAwaitRestart(source, sink);

            // And the sink's, once the source's serves again and more has arrived.
            awaitDelivered(sink, RECORDS / 2);
            killAndAwaitRestart(sink, sink);

            String outcome = PipelineCluster.awaitSourceOutcome(source, AT_MOST);
            log.info("source pod {}: {}", source.name(), outcome);
            assertThat(outcome)
                .startsWith("demo-source: done produced=" + RECORDS)
                .contains(" failed=0 ");
            JsonNode stats = PipelineCluster.sinkStats(sink, RECORDS, 0);
            log.info(
                "sink pod {} after both sidecars' restarts: delivered {}, duplicates {}, lost {};"
                    + " /stats {}",
                sink.name(),
                stats.path("delivered").asLong(),
                stats.path("duplicates").asLong(),
                stats.path("lost").asLong(),
                stats);
            assertThat(stats.path("lost").asLong(-1)).as(stats.toString()).isZero();
            assertThat(stats.path("delivered").asLong()).as(stats.toString()).isEqualTo(RECORDS);
            assertThat(stats.path("delivered").asLong() + stats.path("duplicates").asLong())
                .as("sink count >= sent")
                .isGreaterThanOrEqualTo(RECORDS);
            assertThat(stats.path("beyond_sent").asLong(-1)).as(stats.toString()).isZero();
          });
    }
  }

  private static void awaitDelivered(RunningPod sink, long records) {
    await()
        .atMost(AT_MOST)
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> PipelineCluster.sinkStats(sink, RECORDS, 0).path("delivered").asLong(),
            delivered -> delivered >= records);
  }

  /**
   * SIGKILLs {@code pod}'s sidecar and waits until the runner has started it again and it is ready;
   * only the sidecar restarted, the app ran through.
   */
  private static void killAndAwaitRestart(RunningPod pod, RunningPod sink) throws Exception {
    long atKill = PipelineCluster.sinkStats(sink, RECORDS, 0).path("delivered").asLong();
    pod.signal(PipelineCluster.SIDECAR, "KILL");
    log.info(
        "killed {}/{} with {} records at the sink", pod.name(), PipelineCluster.SIDECAR, atKill);
    ContainerStatus restarted =
        await()
            .atMost(AT_MOST)
            .until(
                () -> pod.status(PipelineCluster.SIDECAR), s -> s.restartCount() == 1 && s.ready());
    assertThat(restarted.lastTermination())
        .hasValueSatisfying(
            t -> {
              assertThat(t.exitCode()).isEqualTo(137);
              assertThat(t.reason()).isEqualTo("Error");
            });
    assertThat(pod.status("app").restartCount()).isZero();
    assertThat(pod.status("app").running()).isTrue();
  }
}

package io.conveyor.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.examples.local.PrometheusText;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.SendRate;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A source pushes before any pod runs the pipeline's sink, as processes on real ports: its sidecar
 * holds the batches until the sink's pod registers and delivers them then; the source re-sends
 * nothing (the pods tier saw a busy loop of re-sends here: resent=140,869 for 20,000 records).
 */
class SinkRegistersLaterTest {

  private Topology topology;

  @AfterEach
  void stop() {
    topology.close();
  }

  /** Router and pod A (source, transform), whose pipeline's sink no pod runs. */
  private void startWithoutSink(String name, Map<String, String> podASidecarEnv) {
    topology = new Topology(name);
    // No warm-up: pod A's sidecar is handed the pipeline, its sink without an instance, as soon as
    // it registers. With the default 10 s warm-up the router holds that assignment back (its sink
    // stage is not served) until the warm-up ends whenever the sidecar registers with its services
    // already discovered, which depends on which of its first scan and its enrolment ends first;
    // these tests are about what the sidecar does with the assignment, not about the warm-up.
    topology.startRouterAndPodA(Map.of("ROUTER_WARMUP_SECS", "0"), podASidecarEnv);
    await().atMost(Duration.ofSeconds(60)).until(() -> topology.podA.sidecarReady());
    // Source and transform discovered: the router assigns the pipeline, its sink without target.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                PrometheusText.metric(
                        topology.podA.sidecarMetrics(), "conveyor_sidecar_discovered_services")
                    == 2.0);
  }

  @Test
  void batchesWaitForTheSinkToRegisterAndNoneIsResent() throws Exception {
    startWithoutSink("sink-later", Map.of());

    long records = 2_000;
    // Acks are waited for longer than the pipeline's batch timeout (30 s), as the demo source's
    // default (45 s) is: the sidecar answers first, whenever the sink's pod registers.
    try (RecordPusher pusher =
        topology.pusher("sink-later", records, SendRate.unlimited(), 100, Duration.ofSeconds(45))) {
      pusher.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> pusher.snapshot().sent() > 0);
      assertThat(topology.routerMetric("conveyor_router_sidecars")).isEqualTo(1.0);

      topology.startPodB();

      assertThat(pusher.awaitCompletion(Duration.ofSeconds(90)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      assertThat(stats.resent()).as("records re-sent: %s", stats.line()).isZero();
      assertThat(stats.delivered() + stats.filtered()).as(stats.line()).isEqualTo(records);
    }
    assertThat(
            PrometheusText.metric(
                topology.podA.sidecarMetrics(), "conveyor_sidecar_stage_waits_total"))
        .isPositive();
    Topology.SinkCount count = topology.sinkCount("sink-later", records);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  @Test
  void aDrainingSidecarFailsTheBatchesWaitingForTheSinkAtOnceAndExitsZero() throws Exception {
    // A grace longer than the batch timeout (30 s): were the waiting batch not failed at once,
    // the drain would wait for its deadline, well past the 15 s this test gives the stop.
    startWithoutSink("sink-later-drain", Map.of("SHUTDOWN_GRACE_SECS", "120"));
    try (RecordPusher pusher =
        topology.pusher(
            "sink-later-drain", 200, SendRate.unlimited(), 100, Duration.ofSeconds(45))) {
      pusher.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  PrometheusText.metric(
                          topology.podA.sidecarMetrics(), "conveyor_sidecar_waiting_for_stage")
                      >= 1.0);

      assertThat(topology.podA.sidecar().stop(Duration.ofSeconds(15)))
          .as(topology.podA.sidecar().logTail(30))
          .isZero();
      assertThat(topology.podA.sidecar().logTail(30))
          .contains("waiting for a stage to get an instance")
          .contains("deregistered");
    }
  }
}

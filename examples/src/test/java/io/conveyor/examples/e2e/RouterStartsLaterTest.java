package io.conveyor.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.PrometheusText;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.SendRate;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Sidecars started before the router keep trying, never crash, and register once it appears. */
class RouterStartsLaterTest {

  private Topology topology;

  @AfterEach
  void stop() {
    topology.close();
  }

  @Test
  void sidecarsRegisterOnceTheRouterAppearsAndRecordsFlow() throws Exception {
    topology = new Topology("router-later");
    topology.startPods();
    // No router, so no CA yet: the sidecars are up (not ready) and keep trying to enrol with
    // backoff, since under mutual TLS they register only with a certificate. Every attempt is
    // counted (each one failed); two show a retry.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                PrometheusText.metric(
                            topology.podA.sidecarMetrics(), "conveyor_sidecar_enrolments_total")
                        >= 2
                    && PrometheusText.metric(
                            topology.podB.sidecarMetrics(), "conveyor_sidecar_enrolments_total")
                        >= 2);
    assertThat(topology.podA.sidecar().isAlive()).isTrue();
    assertThat(topology.podB.sidecar().isAlive()).isTrue();
    assertThat(topology.podA.sidecarReady()).isFalse();
    LocalCluster.HttpResult readiness =
        topology.cluster.get(topology.podA.sidecarMetricsPort(), "/readyz");
    assertThat(readiness.status()).isEqualTo(503);
    assertThat(readiness.body()).contains("no workload certificate yet");

    topology.startRouter();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());

    try (RecordPusher pusher = topology.pusher("late-router", 5_000, SendRate.unlimited())) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60)))
          .as(pusher.snapshot().line())
          .isTrue();
      assertThat(pusher.snapshot().failed()).isZero();
    }
    assertThat(topology.sinkCount("late-router", 5_000).lost()).isZero();
  }
}

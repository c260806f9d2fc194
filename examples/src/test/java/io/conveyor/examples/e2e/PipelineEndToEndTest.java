package io.conveyor.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.examples.local.PrometheusText;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.SendRate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole system as processes on real ports: router, two sidecars, the demo transform and sink,
 * and a source. One topology for the class; the tests run in order and each uses its own source id,
 * so the sink's counts of one never mix with another's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest {

  private Topology topology;
  private long discoveryStarted;

  @BeforeAll
  void start() throws Exception {
    topology = new Topology("pipeline");
    discoveryStarted = System.nanoTime();
    // Pod A's sidecar takes messages of at most 256 KiB, so that a source's batches can be
    // larger than both its limit and the transport's (twice it) without using much memory.
    topology.startRouterAndPods(Map.of(), Map.of("MAX_MESSAGE_BYTES", "256Ki"));
  }

  @AfterAll
  void stop() {
    topology.close();
  }

  @Test
  @Order(1)
  void sidecarsDiscoverOnlyTheRealServicesDespiteHostileListenersAndRegister() throws Exception {
    // Hostile listeners appear in pod A's range after start; re-discovery must shrug them off.
    Path dir = topology.cluster.workDir();
    topology.closeLater(FakeListeners.http1(topology.podA.appPort(4)));
    topology.closeLater(FakeListeners.tls(topology.podA.appPort(5), dir));
    topology.closeLater(FakeListeners.silent(topology.podA.appPort(6)));
    topology.closeLater(FakeListeners.resetting(topology.podA.appPort(7)));

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());
    // Pod A runs demo-source (this JVM) and demo-transform; pod B demo-sink. The admin ports and
    // the fake listeners are skipped.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                PrometheusText.metric(
                        topology.podA.sidecarMetrics(), "conveyor_sidecar_discovered_services")
                    == 2.0);
    // Pod B may have registered after a first scan that ran before demo-sink listened, and found
    // it only at a later scan: ready does not imply discovered.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                PrometheusText.metric(
                        topology.podB.sidecarMetrics(), "conveyor_sidecar_discovered_services")
                    == 1.0);
    // Scans keep running every 2 s with the hostile listeners in range, and stay quick.
    long runsBefore =
        (long)
            PrometheusText.metric(
                topology.podA.sidecarMetrics(), "conveyor_sidecar_discovery_runs_total");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                PrometheusText.metric(
                        topology.podA.sidecarMetrics(), "conveyor_sidecar_discovery_runs_total")
                    >= runsBefore + 2);
    assertThat(
            PrometheusText.metric(
                topology.podA.sidecarMetrics(), "conveyor_sidecar_discovered_services"))
        .isEqualTo(2.0);
    assertThat(topology.routerMetric("conveyor_router_sidecars")).isEqualTo(2.0);
    assertThat(Duration.ofNanos(System.nanoTime() - discoveryStarted))
        .isLessThan(Duration.ofSeconds(120));
  }

  @Test
  @Order(2)
  void tenThousandRecordsAllArriveAtTheSinkOnTheOtherPod() throws Exception {
    try (RecordPusher pusher = topology.pusher("e2e-10k", 10_000, SendRate.unlimited())) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).isZero();
      assertThat(stats.delivered() + stats.filtered()).isEqualTo(10_000);
      assertThat(stats.filtered()).isEqualTo(1_000); // the demo transform filters every tenth
    }
    Topology.SinkCount count = topology.sinkCount("e2e-10k", 10_000);
    assertThat(count.delivered()).as(count.json()).isEqualTo(9_000);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  @Test
  @Order(3)
  void batchesLargerThanTheSidecarAcceptsAreCutToFitAndAllArrive() throws Exception {
    // 200 records of 5 KB are a batch of about 1 MB: over the sidecar's 256 KiB and over the
    // transport's 512 KiB, past which grpc-java resets the stream instead of refusing the batch.
    try (RecordPusher pusher = topology.pusher("e2e-large", 2_000, SendRate.unlimited(), 5_000)) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      assertThat(stats.reconnects()).as("streams re-opened: %s", stats.line()).isZero();
      assertThat(stats.resent()).as(stats.line()).isZero();
    }
    Topology.SinkCount count = topology.sinkCount("e2e-large", 2_000);
    assertThat(count.delivered()).as(count.json()).isEqualTo(1_800);
    assertThat(count.lost()).as(count.json()).isZero();
  }

  @Test
  @Order(4)
  void killingTheRemoteSidecarMidStreamLosesNothing() throws Exception {
    long records = 60_000;
    try (RecordPusher pusher =
        topology.pusher("e2e-kill", records, SendRate.recordsPerSecond(10_000))) {
      pusher.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> topology.sinkCount("e2e-kill", records).delivered() > 10_000);

      topology.podB.sidecar().kill(); // SIGKILL: a crash, nothing drained
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> pusher.snapshot().resent() > 0 || pusher.snapshot().reconnects() > 0);
      topology.podB.sidecar().restart();

      assertThat(pusher.awaitCompletion(Duration.ofSeconds(120)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      assertThat(stats.resent()).as("records re-sent after the crash").isPositive();
    }
    // Records the sink wrote just before the crash may have been sent again: they show in the
    // sink's duplicates count (in the message), never as loss.
    Topology.SinkCount count = topology.sinkCount("e2e-kill", records);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.delivered()).as(count.json()).isEqualTo(records * 9 / 10);
  }

  @Test
  @Order(5)
  void aRouterRestartUnderTrafficCostsNoRecordARetry() throws Exception {
    double registrationsBefore =
        PrometheusText.metric(
            topology.podA.sidecarMetrics(), "conveyor_sidecar_registrations_total");
    long records = 40_000;
    try (RecordPusher pusher =
        topology.pusher("e2e-router-restart", records, SendRate.recordsPerSecond(5_000))) {
      pusher.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> topology.sinkCount("e2e-router-restart", records).delivered() > 5_000);

      topology.cluster.router().kill();
      topology.cluster.router().restart();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> topology.routerMetric("conveyor_router_sidecars") == 2.0);
      // The router counts a sidecar when it handles the registration; the sidecar counts it when
      // the reply arrives, a moment later.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  PrometheusText.metric(
                          topology.podA.sidecarMetrics(), "conveyor_sidecar_registrations_total")
                      > registrationsBefore);

      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      // Sidecars come back one by one; the first must not be handed a plan from a partial
      // registry (one without the sink), which failed records retryably and had them re-sent.
      assertThat(stats.resent()).as("records re-sent: %s", stats.line()).isZero();
    }
    Topology.SinkCount count = topology.sinkCount("e2e-router-restart", records);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  @Test
  @Order(6)
  void sigtermDrainsTheSidecarWhichDeregistersAndExitsZero() {
    assertThat(topology.podB.sidecar().stop(Duration.ofSeconds(30))).isZero();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> topology.routerMetric("conveyor_router_sidecars") == 1.0);
    assertThat(topology.podB.sidecar().logTail(20)).contains("deregistered");
  }
}

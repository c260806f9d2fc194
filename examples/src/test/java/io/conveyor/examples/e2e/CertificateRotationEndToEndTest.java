package io.conveyor.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.examples.local.Pod;
import io.conveyor.examples.local.PrometheusText;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.SendRate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Workload certificates change under a running demo topology (mutual TLS on, the default): renewed
 * every few seconds while records flow, and re-issued under a new root when the standalone router
 * comes back with a new CA. Neither may lose, duplicate or fail a record.
 */
class CertificateRotationEndToEndTest {

  private Topology topology;

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close();
    }
  }

  @Test
  void certificatesRenewedSeveralTimesDuringTrafficLoseNothing() throws Exception {
    topology = new Topology("rotation");
    assertThat(topology.cluster.mutualTls()).as("the demo runs with mutual TLS on").isTrue();
    // 10 s certificates: each sidecar renews about every 5 s (at 40-60 % of the lifetime), three
    // times or more in the run.
    topology.startRouterAndPods(Map.of("CERTIFICATE_TTL_SECS", "10"), Map.of());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());
    long started = System.nanoTime();
    double issuedBeforeA = issued(topology.podA);
    double issuedBeforeB = issued(topology.podB);

    // 15 s of a steady flow across the renewals: three lifetimes' halves, as before with 20 s
    // certificates and 30 s of flow.
    long records = 22_500;
    try (RecordPusher pusher =
        topology.pusher("rotation", records, SendRate.recordsPerSecond(1_500))) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(90)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      assertThat(stats.delivered() + stats.filtered()).as(stats.line()).isEqualTo(records);
    }

    // Renewals really happened during the flow, on both sides of the peer hop.
    assertThat(issued(topology.podA) - issuedBeforeA)
        .as("pod A's renewals")
        .isGreaterThanOrEqualTo(2);
    assertThat(issued(topology.podB) - issuedBeforeB)
        .as("pod B's renewals")
        .isGreaterThanOrEqualTo(2);
    assertThat(issued(topology.podA)).as("pod A's certificates").isGreaterThanOrEqualTo(3);
    assertThat(issued(topology.podB)).as("pod B's certificates").isGreaterThanOrEqualTo(3);
    // Renewed at about half-life, not in a loop: at most one per 3 s of the flow (the earliest
    // renewal of a 10 s certificate, less X.509's whole seconds), and one in flight. Counted from
    // the flow's start: renewals while the sidecars became ready are not in this window.
    double atMost = Duration.ofNanos(System.nanoTime() - started).toSeconds() / 3.0 + 1;
    assertThat(issued(topology.podA) - issuedBeforeA)
        .as("pod A's renewals during the flow")
        .isLessThanOrEqualTo(atMost);
    assertThat(issued(topology.podB) - issuedBeforeB)
        .as("pod B's renewals during the flow")
        .isLessThanOrEqualTo(atMost);
    // And each still holds a certificate of less than 10 s.
    assertThat(secondsToExpiry(topology.podA)).isBetween(0.0, 10.0);
    assertThat(secondsToExpiry(topology.podB)).isBetween(0.0, 10.0);

    Topology.SinkCount count = topology.sinkCount("rotation", records);
    assertThat(count.delivered()).as(count.json()).isEqualTo(records * 9 / 10);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  @Test
  void aRouterRestartedWithANewCaHasTheSidecarsEnrolAgainAndTrafficResumes() throws Exception {
    topology = new Topology("ca-restart");
    // The default 24 h certificates: renewal is 12 h away, so only noticing the new root can
    // bring the sidecars back.
    topology.startRouterAndPods();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());
    deliversAll("before-ca-restart", 2_000);
    Path caDir = topology.cluster.caDir();
    String oldRoot = Files.readString(caDir.resolve("ca.crt"));
    String oldToken = Files.readString(caDir.resolve("bootstrap-token"));
    double issuedBeforeA = issued(topology.podA);
    double issuedBeforeB = issued(topology.podB);

    // The router stops, its CA folder is gone, and it starts again on the same ports: a new root
    // and a new bootstrap token, which the sidecars read from the same files.
    topology.cluster.router().stop(Duration.ofSeconds(15));
    assertThat(topology.cluster.router().isAlive()).isFalse();
    deleteRecursively(caDir);
    topology.cluster.router().restart();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Files.exists(caDir.resolve("bootstrap-token")));
    assertThat(Files.readString(caDir.resolve("ca.crt"))).isNotEqualTo(oldRoot);
    assertThat(Files.readString(caDir.resolve("bootstrap-token"))).isNotEqualTo(oldToken);

    // Each sidecar notices the new root, enrols under it and registers again.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                issued(topology.podA) > issuedBeforeA
                    && issued(topology.podB) > issuedBeforeB
                    && topology.routerMetric("conveyor_router_sidecars") == 2.0);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());

    deliversAll("after-ca-restart", 5_000);
  }

  /** Pushes {@code records} into pod A and checks that every one reached the sink on pod B. */
  private void deliversAll(String sourceId, long records) throws Exception {
    try (RecordPusher pusher = topology.pusher(sourceId, records, SendRate.unlimited())) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60)))
          .as(pusher.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).as(stats.line()).isZero();
      assertThat(stats.delivered() + stats.filtered()).as(stats.line()).isEqualTo(records);
    }
    Topology.SinkCount count = topology.sinkCount(sourceId, records);
    assertThat(count.delivered()).as(count.json()).isEqualTo(records * 9 / 10);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  /** Certificates the pod's sidecar was issued so far (its first enrolment and each renewal). */
  private static double issued(Pod pod) {
    double sum = 0;
    for (String line : pod.sidecarMetrics().split("\n")) {
      if (line.startsWith("conveyor_sidecar_enrolments_total{")
          && line.contains("result=\"issued\"")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static double secondsToExpiry(Pod pod) {
    return PrometheusText.metric(
        pod.sidecarMetrics(), "conveyor_sidecar_certificate_expiry_seconds");
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}

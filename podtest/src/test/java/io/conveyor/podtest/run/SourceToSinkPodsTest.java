package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.operator.crd.ConveyorSidecar;
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
 * Issue 13, scenario 1: the demo source and the demo sink, each a pod of the examples image as its
 * Deployment makes it, mutated by the webhook's real handler, with the injected sidecar from the
 * real sidecar image, run under runc ({@link PipelineCluster}). Each sidecar discovers its app on
 * the pod's own loopback in the injected default port range, enrols with the pod's projected token,
 * registers with its pod IP; the source's records cross pod IPs over mutual TLS and the sink counts
 * them. The sink's pod asks for the throughput profile, and its sidecar's JVM runs C2.
 */
@Tag(PodsTier.TAG)
@ExtendWith(SharedPipelineCluster.class)
class SourceToSinkPodsTest {

  private static final String NS = "shop";
  private static final long RECORDS = 20_000;
  private static final Duration START = Duration.ofSeconds(180);
  private static final Logger log = LoggerFactory.getLogger(SourceToSinkPodsTest.class);

  /** This machine's architecture as Netty names its native libraries. */
  private static final String ARCH =
      System.getProperty("os.arch").equals("aarch64") ? "aarch_64" : "x86_64";

  @Test
  void theSourcePodsRecordsReachTheSinkPodThroughTheInjectedSidecars(PipelineCluster cluster)
      throws Exception {
    try (PipelineCluster.Scenario shop = cluster.scenario(NS)) {
      shop.pipeline("/deploy/pipeline-source-to-sink.yaml");
      // The sink's pod asks for the throughput profile; the source's runs the default, compact.
      RunningPod sinkPod =
          shop.run(
              "/deploy/demo-sink.yaml",
              Map.of(),
              Map.of("conveyor.etl/sidecar-profile", "throughput"));
      RunningPod sourcePod =
          shop.run("/deploy/demo-source.yaml", Map.of("RECORDS", Long.toString(RECORDS)));
      shop.check(
          () -> {
            await().atMost(START).until(() -> sinkPod.ready() && sourcePod.ready());
            // The source's own account: every record acknowledged (done), none failed.
            String outcome = PipelineCluster.awaitSourceOutcome(sourcePod, START);
            log.info("source pod {}: {}", sourcePod.name(), outcome);
            assertThat(outcome)
                .startsWith("demo-source: done produced=" + RECORDS)
                .containsPattern("failed=0 in_flight=0");
            JsonNode stats = PipelineCluster.sinkStats(sinkPod, RECORDS, 0);
            log.info("sink pod {} /stats: {}", sinkPod.name(), stats);
            assertThat(stats.path("delivered").asLong()).as(stats.toString()).isEqualTo(RECORDS);
            assertThat(stats.path("lost").asLong(-1)).as(stats.toString()).isZero();
            assertThat(stats.path("beyond_sent").asLong(-1)).as(stats.toString()).isZero();
            // Each sidecar enrolled and registered once, over the pod IPs it was given (the
            // cluster's other scenarios have namespaces of their own).
            assertThat(sinkPod.status(PipelineCluster.SIDECAR).restartCount()).isZero();
            assertThat(sourcePod.status(PipelineCluster.SIDECAR).restartCount()).isZero();
            // Each sidecar started from the image's class archive, as under a container runtime
            // that keeps the layers' file times (-Xshare:auto warns when it cannot use it, and
            // says nothing when the image has none: so the archive must also be mapped).
            // And loaded BoringSSL and epoll from the image's /app/native, one copy a node's
            // sidecars share, not from a private copy Netty writes into /tmp.
            for (RunningPod pod : new RunningPod[] {sinkPod, sourcePod}) {
              assertThat(pod.log(PipelineCluster.SIDECAR))
                  .as(pod.name() + "'s sidecar log")
                  .doesNotContain("[warning][cds");
              assertThat(pod.mappedFiles(PipelineCluster.SIDECAR))
                  .as(pod.name() + "'s sidecar's mapped files")
                  .contains(
                      "/app/conveyor-sidecar.jsa",
                      "/app/native/libio_grpc_netty_shaded_netty_tcnative_linux_" + ARCH + ".so",
                      "/app/native/libio_grpc_netty_shaded_netty_transport_native_epoll_"
                          + ARCH
                          + ".so")
                  .noneMatch(file -> file.contains("netty") && !file.startsWith("/app/native/"));
            }
            // Each sidecar's JVM compiles as its pod's profile says: C1 and C2 (tiered) for
            // throughput, C1 alone for compact.
            assertThat(sinkPod.threadNames(PipelineCluster.SIDECAR))
                .as(sinkPod.name() + "'s sidecar's threads")
                .contains("C1 CompilerThre", "C2 CompilerThre");
            assertThat(sourcePod.threadNames(PipelineCluster.SIDECAR))
                .as(sourcePod.name() + "'s sidecar's threads")
                .contains("C1 CompilerThre")
                .doesNotContain("C2 CompilerThre");
            // And the operator shows each pod's profile (kubectl get conveyorsidecars -o wide).
            for (var expected :
                Map.of(sinkPod.name(), "throughput", sourcePod.name(), "compact").entrySet()) {
              await()
                  .atMost(START)
                  .until(
                      () -> profileShown(cluster, expected.getKey()),
                      shown -> expected.getValue().equals(shown));
            }
            var core = cluster.operator().routerCore().orElseThrow();
            assertThat(
                    core.sidecars().stream()
                        .filter(r -> r.namespace().equals(NS))
                        .map(r -> r.podName() + "@" + r.podIp() + " " + r.workloadIdentity())
                        .toList())
                .containsExactlyInAnyOrder(
                    sinkPod.name() + "@" + sinkPod.ip() + " " + shop.identity(sinkPod, "demo-sink"),
                    sourcePod.name()
                        + "@"
                        + sourcePod.ip()
                        + " "
                        + shop.identity(sourcePod, "demo-source"));
          });
    }
  }

  /** The profile the ConveyorSidecar of {@code pod} shows, or null before it shows one. */
  private static String profileShown(PipelineCluster cluster, String pod) {
    ConveyorSidecar object =
        cluster.api().client().resources(ConveyorSidecar.class).inNamespace(NS).withName(pod).get();
    return object == null || object.getStatus() == null ? null : object.getStatus().getProfile();
  }
}

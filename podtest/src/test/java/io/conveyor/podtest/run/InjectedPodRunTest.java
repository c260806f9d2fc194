package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.podtest.PodFixtures;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.TestImages;
import io.conveyor.podtest.spec.FakeServiceAccountToken;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook's real mutation of the demo sink's Deployment pod, run exactly as mutated. The
 * project's images are not built yet in this tier, so both image names are stand-ins from busybox
 * that serve what the probes ask (/healthz and /readyz on 9090) and report what they see; the pod
 * spec (native sidecar, securityContext, volumes, memory limit, seccomp, probes) is the webhook's.
 */
@Tag(PodsTier.TAG)
class InjectedPodRunTest {

  static final String SIDECAR_STANDIN =
      "mkdir -p /tmp/www && echo ok > /tmp/www/healthz && echo ok > /tmp/www/readyz;"
          + " echo \"token=$(cat /var/run/secrets/conveyor.etl/serviceaccount/token)\";"
          + " echo \"api-token-files=$(ls -A /var/run/secrets/kubernetes.io/serviceaccount | wc -l)\";"
          + " echo \"ids=$(id -u):$(id -g)\";"
          + " touch /root-write 2>/dev/null && echo root-write=ok || echo root-write=refused;"
          + " grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status;"
          + " echo \"env POD_IP=$POD_IP GRPC_PORT=$GRPC_PORT\";"
          + " httpd -f -p 9090 -h /tmp/www & trap \"kill $!; exit 0\" TERM; wait";
  static final String APP_STANDIN =
      "echo \"app-args=$0 ids=$(id -u):$(id -g)\"; trap \"exit 0\" TERM; sleep 600 & wait";

  @TempDir Path dir;

  @Test
  void theMutatedDemoSinkPodRunsAsTheWebhookWroteIt() throws Exception {
    PodsTier.require();
    try (PodHost host = PodHost.start(RunSettings.kubeletDefaults())) {
      host.image(
          "ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0",
          TestImages.busybox(
              dir.resolve("sidecar.tar"),
              List.of("/bin/sh", "-c", SIDECAR_STANDIN),
              List.of(),
              "65532"));
      host.image(
          "ghcr.io/conveyor-etl/conveyor-examples:0.1.0",
          TestImages.busybox(
              dir.resolve("examples.tar"),
              List.of("/bin/sh", "-c", APP_STANDIN),
              List.of("source"),
              "65532:65532"));

      RunningPod pod = host.run(PodFixtures.mutatedDemoSink(), "shop", Map.of());

      await().atMost(Duration.ofSeconds(60)).until(pod::ready);
      String sidecar = pod.log("conveyor-sidecar");
      assertThat(sidecar)
          .contains(
              "token="
                  + new FakeServiceAccountToken(
                          "shop",
                          "demo-sink",
                          pod.name(),
                          pod.plan().identity().uid(),
                          "conveyor.etl")
                      .jwt())
          .contains("api-token-files=0")
          .contains("ids=65532:65532")
          .contains("root-write=refused")
          .containsPattern("CapBnd:\\s+0000000000000000")
          .containsPattern("NoNewPrivs:\\s+1")
          .containsPattern("Seccomp:\\s+2")
          .contains("env POD_IP=" + pod.ip() + " GRPC_PORT=9091");
      await().atMost(Duration.ofSeconds(10)).until(() -> pod.log("app").contains("app-args="));
      assertThat(pod.log("app")).contains("app-args=sink ids=65532:65532");
      // the native sidecar passed its startup probe before the app container was started
      List<String> events = pod.events();
      int sidecarStarted = indexOf(events, "conveyor-sidecar started (startup probe passed)");
      int appStarted = indexOf(events, "started app ");
      assertThat(sidecarStarted).as(events.toString()).isNotNegative().isLessThan(appStarted);
      // the injected memory limit is the container's cgroup limit
      assertThat(pod.memoryStat("conveyor-sidecar"))
          .containsEntry("hierarchical_memory_limit", 192L << 20);
      assertThat(pod.memoryStat("app")).containsEntry("hierarchical_memory_limit", 256L << 20);
      assertThat(pod.status("conveyor-sidecar").restartCount()).isZero();
    }
  }

  private static int indexOf(List<String> events, String text) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).contains(text)) {
        return i;
      }
    }
    return -1;
  }
}

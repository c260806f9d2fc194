package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.PodApps;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.SidecarPod;
import io.conveyor.router.pipeline.PipelineSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two operator replicas against one API server: exactly one leads and serves the coordinator; when
 * it stops, the other takes over, a real sidecar (reaching the replicas through the Service) finds
 * the new leader and registers again with it by itself, and the statuses of the objects do not flap
 * while it does.
 */
class LeadershipTest {

  private static final String NS = "fleet";

  @RegisterExtension static final OperatorHarness harness = new OperatorHarness();

  private static KubernetesClient client;
  private static ConveyorOperator first;
  private static ConveyorOperator second;

  @BeforeAll
  static void startReplicas() {
    client = harness.client();
    Duration warmUp = Duration.ofSeconds(10);
    first = harness.start("replica-a", warmUp, Clock.systemUTC());
    second = harness.start("replica-b", warmUp, Clock.systemUTC());
  }

  @Test
  void exactlyOneReplicaServesAndTheOtherTakesOverWhenItStops() {
    await()
        .atMost(OperatorHarness.LEADERSHIP_TIMEOUT)
        .until(() -> first.serving() || second.serving());
    ConveyorOperator leader = first.serving() ? first : second;
    ConveyorOperator standby = leader == first ? second : first;
    int leaderPort = leader.routerPort().orElseThrow();

    // Exactly one serves, and stays the only one.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> leader.serving() && !standby.serving() && standby.routerPort().isEmpty());
    assertThat(holder()).isEqualTo(leader.identity());
    assertThat(accepts(leaderPort)).isTrue();
    // Readiness follows leadership: Service conveyor-router has the leader as its only endpoint.
    assertThat(leader.readiness().ok()).isTrue();
    assertThat(standby.readiness().ok()).isFalse();
    assertThat(standby.readiness().detail()).contains("standby").contains(leader.identity());
    assertThat(standby.liveness().ok()).isTrue();

    client.resource(pipeline("telemetry", "probe", "archive")).create();
    Pod pod = client.resource(Pods.injected(NS, "probe-0")).create();
    pod.setStatus(Pods.running("10.3.0.1", true));
    pod = client.resource(pod).updateStatus();
    List<SidecarPhase> phases = new CopyOnWriteArrayList<>();
    try (SidecarPod sidecar =
            harness.startSidecar(
                pod, "sc-probe-0", PodApps.source("probe"), PodApps.sink("archive"));
        Watch watch = recordPhases("probe-0", phases)) {
      awaitSidecarPhase("probe-0", SidecarPhase.Ready);
      awaitPipelinePhase("telemetry", PipelinePhase.Running);
      assertThat(leader.routerCore().orElseThrow().sidecar("sc-probe-0")).isPresent();
      // The watch delivers events in order but after the GETs above saw Ready: an earlier Pending
      // event may still be on its way. Once the watch has delivered Ready, all before it are in.
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> !phases.isEmpty() && phases.get(phases.size() - 1) == SidecarPhase.Ready);
      phases.clear();

      // The leader stops: it releases the Lease, so the standby need not wait for it to expire.
      leader.close(Duration.ofSeconds(10));
      assertThat(leader.serving()).isFalse();
      assertThat(accepts(leaderPort)).as("the old leader's port is closed").isFalse();

      await().atMost(OperatorHarness.LEADERSHIP_TIMEOUT).until(standby::serving);
      assertThat(holder()).isEqualTo(standby.identity());
      assertThat(standby.readiness().ok()).isTrue();

      // Nobody tells the sidecar: through the Service its calls now reach the new leader, which
      // does not know it, and it registers again by itself, once.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(standby.routerCore().orElseThrow().sidecar("sc-probe-0")).isPresent();
                assertThat(sidecar.isRegistered()).isTrue();
              });
      assertThat(sidecar.registrations()).isEqualTo(2);

      awaitSidecarPhase("probe-0", SidecarPhase.Ready);
      awaitPipelinePhase("telemetry", PipelinePhase.Running);
      assertThat(get("probe-0").getStatus().getPipelines()).containsExactly("telemetry");
      // During the take-over the status was held, never flipped to Lost or Pending.
      assertThat(phases).allMatch(p -> p == SidecarPhase.Ready, "phases seen: " + phases);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String holder() {
    return harness.lease().getSpec().getHolderIdentity();
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static Watch recordPhases(String name, List<SidecarPhase> phases) {
    return client
        .resources(ConveyorSidecar.class)
        .inNamespace(NS)
        .withName(name)
        .watch(
            new Watcher<>() {
              @Override
              public void eventReceived(Action action, ConveyorSidecar resource) {
                if (resource.getStatus() != null) {
                  phases.add(resource.getStatus().getPhase());
                }
              }

              @Override
              public void onClose(WatcherException cause) {}
            });
  }

  private static Pipeline pipeline(String name, String source, String sink) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    pipeline.setSpec(new PipelineSpec(source, List.of(), sink, null));
    return pipeline;
  }

  private static ConveyorSidecar get(String name) {
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }

  private static void awaitSidecarPhase(String name, SidecarPhase phase) {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ConveyorSidecar cs = get(name);
              assertThat(cs).isNotNull();
              assertThat(cs.getStatus()).isNotNull();
              assertThat(cs.getStatus().getPhase()).isEqualTo(phase);
            });
  }

  private static void awaitPipelinePhase(String name, PipelinePhase phase) {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Pipeline p = client.resources(Pipeline.class).inNamespace(NS).withName(name).get();
              assertThat(p.getStatus()).isNotNull();
              assertThat(p.getStatus().getPhase()).isEqualTo(phase);
            });
  }
}

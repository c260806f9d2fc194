package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.PodApps;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.SidecarPod;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The life of a ConveyorSidecar on the CRUD mock server, with real sidecars registering through the
 * gRPC coordinator: created for a labelled pod with the pod as owner, Ready once the pod is ready
 * and its sidecar registered, Lost when its heartbeats stop or it deregisters, gone with its pod.
 */
class SidecarLifecycleTest {

  private static final String NS = "shop";

  @RegisterExtension static final OperatorHarness harness = new OperatorHarness();

  private static KubernetesClient client;
  private static MutableClock clock;
  private static ConveyorOperator operator;

  @BeforeAll
  static void startOperator() {
    client = harness.client();
    clock = MutableClock.startingNow();
    operator = harness.startLeader("op-lifecycle", Duration.ZERO, clock);
  }

  @Test
  void aLabelledPodGetsAConveyorSidecarOwnedByIt() {
    Pod pod = client.resource(Pods.injected(NS, "orders-source-0")).create();

    ConveyorSidecar cs = awaitSidecar("orders-source-0", SidecarPhase.Pending);

    assertThat(cs.getMetadata().getNamespace()).isEqualTo(NS);
    List<OwnerReference> owners = cs.getMetadata().getOwnerReferences();
    assertThat(owners).hasSize(1);
    assertThat(owners.get(0).getKind()).isEqualTo("Pod");
    assertThat(owners.get(0).getName()).isEqualTo("orders-source-0");
    assertThat(owners.get(0).getUid()).isEqualTo(pod.getMetadata().getUid());
    assertThat(owners.get(0).getController()).isTrue();
    assertThat(cs.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "conveyor-operator");
    assertThat(cs.getStatus().getPodUID()).isEqualTo(pod.getMetadata().getUid());
    assertThat(condition(cs, "Registered").getReason()).isEqualTo("AwaitingRegistration");
  }

  @Test
  void aRegisteredSidecarIsReadyThenLostWhenItsHeartbeatsStopThenGoneWithItsPod() {
    client.resource(pipeline("orders", "orders", "warehouse")).create();
    Pod pod = client.resource(Pods.injected(NS, "orders-1")).create();
    awaitSidecar("orders-1", SidecarPhase.Pending);

    pod.setStatus(Pods.running("10.1.0.5", true));
    pod = client.resource(pod).updateStatus();
    RouterCore core = operator.routerCore().orElseThrow();
    try (SidecarPod sidecar =
        harness.startSidecar(
            pod, "sidecar-orders-1", PodApps.source("orders"), PodApps.sink("warehouse"))) {
      ConveyorSidecar ready = awaitSidecar("orders-1", SidecarPhase.Ready);
      assertThat(ready.getStatus().getRegistered()).isTrue();
      assertThat(ready.getStatus().getSidecarId()).isEqualTo("sidecar-orders-1");
      assertThat(ready.getStatus().getEndpoint()).isEqualTo("10.1.0.5:" + sidecar.peerPort());
      assertThat(ready.getStatus().getPodIP()).isEqualTo("10.1.0.5");
      assertThat(ready.getStatus().getServiceNames()).containsExactly("orders", "warehouse");
      assertThat(ready.getStatus().getPipelines()).containsExactly("orders");
      assertThat(ready.getStatus().getLastHeartbeat()).isNotBlank();
      assertThat(condition(ready, "Ready").getStatus()).isEqualTo("True");

      // Heartbeats alone write nothing: five of them, each at a later time on the router's clock.
      String version = ready.getMetadata().getResourceVersion();
      for (int i = 0; i < 5; i++) {
        clock.advance(Duration.ofSeconds(1));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    core.sidecar("sidecar-orders-1")
                        .map(r -> r.lastHeartbeat().equals(clock.instant()))
                        .orElse(false));
      }
      await()
          .during(Duration.ofMillis(1500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> get("orders-1").getMetadata().getResourceVersion().equals(version));

      // The sidecar dies without a word (SIGKILL): its heartbeats stop, nothing deregisters it.
      sidecar.kill();
    }

    // The heartbeats stop: three missed periods later the router expires the sidecar.
    clock.advance(Duration.ofMinutes(1));
    ConveyorSidecar lost = awaitSidecar("orders-1", SidecarPhase.Lost);
    assertThat(lost.getStatus().getRegistered()).isFalse();
    assertThat(lost.getStatus().getSidecarId()).isEqualTo("sidecar-orders-1");
    assertThat(condition(lost, "Ready").getReason()).isEqualTo("SidecarLost");

    client.resource(pod).delete();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(get("orders-1")).isNull());
  }

  @Test
  void aSidecarThatShutsDownGracefullyDeregistersAtOnce() {
    Pod pod = client.resource(Pods.injected(NS, "payments-0")).create();
    pod.setStatus(Pods.running("10.1.0.9", true));
    pod = client.resource(pod).updateStatus();
    RouterCore core = operator.routerCore().orElseThrow();
    try (SidecarPod sidecar =
        harness.startSidecar(pod, "sidecar-payments-0", PodApps.source("payments"))) {
      awaitSidecar("payments-0", SidecarPhase.Ready);

      sidecar.shutdown("SIGTERM");

      // Deregistered, not expired: the router's clock has not moved.
      assertThat(core.sidecar("sidecar-payments-0")).isEmpty();
      ConveyorSidecar left = awaitSidecar("payments-0", SidecarPhase.Lost);
      assertThat(left.getStatus().getRegistered()).isFalse();
      assertThat(left.getStatus().getSidecarId()).isEqualTo("sidecar-payments-0");
      assertThat(condition(left, "Registered").getReason()).isEqualTo("SidecarLost");
    }
  }

  @Test
  void podsWithoutTheInjectionLabelAreIgnored() {
    client.resource(Pods.plain(NS, "unrelated")).create();
    client.resource(Pods.injected(NS, "marker")).create();

    // Events are handled in order of arrival: once the later pod has its object, the earlier one
    // has been seen (and ignored).
    awaitSidecar("marker", SidecarPhase.Pending);
    assertThat(get("unrelated")).isNull();
  }

  @Test
  void aConveyorSidecarDeletedBySomeoneElseIsCreatedAgain() {
    client.resource(Pods.injected(NS, "stubborn")).create();
    ConveyorSidecar first = awaitSidecar("stubborn", SidecarPhase.Pending);

    client.resource(first).delete();

    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ConveyorSidecar again = get("stubborn");
              assertThat(again).isNotNull();
              assertThat(again.getMetadata().getUid()).isNotEqualTo(first.getMetadata().getUid());
            });
  }

  // ------------------------------------------------------------------ helpers

  static Pipeline pipeline(String name, String source, String sink, String... steps) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    pipeline.setSpec(new PipelineSpec(source, List.of(steps), sink, null));
    return pipeline;
  }

  private static ConveyorSidecar get(String name) {
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }

  private static ConveyorSidecar awaitSidecar(String name, SidecarPhase phase) {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ConveyorSidecar cs = get(name);
              assertThat(cs).as("ConveyorSidecar %s", name).isNotNull();
              assertThat(cs.getStatus()).as("status of %s", name).isNotNull();
              assertThat(cs.getStatus().getPhase()).as("phase of %s", name).isEqualTo(phase);
            });
    return get(name);
  }

  private static Condition condition(ConveyorSidecar cs, String type) {
    return cs.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }
}

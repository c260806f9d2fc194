package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.Pods;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pods deleted while no replica was leading leave their ConveyorSidecar behind (there is no garbage
 * collector on the mock server, and a real one may lag): the next leader removes them.
 */
class OrphanSweepTest {

  private static final String NS = "legacy";

  @RegisterExtension final OperatorHarness harness = new OperatorHarness();

  private KubernetesClient client;

  @BeforeEach
  void client() {
    client = harness.client();
  }

  @Test
  void objectsLeftByPodsDeletedWhileNoReplicaLedAreRemovedByTheNextLeader() {
    Pod kept = client.resource(Pods.injected(NS, "kept")).create();
    leftBehind("kept", kept.getMetadata().getUid());
    leftBehind("gone", "uid-of-a-deleted-pod");
    Pod replaced = client.resource(Pods.injected(NS, "reused-name")).create();
    leftBehind("reused-name", "uid-of-the-previous-pod-of-that-name");

    harness.start("op-sweep", Duration.ZERO, MutableClock.startingNow());

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(get("gone")).isNull();
              ConveyorSidecar reused = get("reused-name");
              assertThat(reused).isNotNull();
              assertThat(reused.getMetadata().getOwnerReferences().get(0).getUid())
                  .isEqualTo(replaced.getMetadata().getUid());
              ConveyorSidecar stillThere = get("kept");
              assertThat(stillThere.getStatus()).isNotNull();
              assertThat(stillThere.getStatus().getPhase()).isEqualTo(SidecarPhase.Pending);
            });
  }

  private void leftBehind(String name, String podUid) {
    ConveyorSidecar cs = new ConveyorSidecar();
    cs.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(NS)
            .withName(name)
            .addToLabels("app.kubernetes.io/managed-by", "conveyor-operator")
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withName(name)
                    .withUid(podUid)
                    .withController(true)
                    .build())
            .build());
    client.resource(cs).create();
  }

  private ConveyorSidecar get(String name) {
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }
}

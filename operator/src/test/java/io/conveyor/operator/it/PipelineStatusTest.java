package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.StageStatus;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.PodApps;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.SidecarPod;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pipeline status on the CRUD mock server, as real sidecars register through the coordinator. */
class PipelineStatusTest {

  private static final String NS = "billing";

  @RegisterExtension static final OperatorHarness harness = new OperatorHarness();

  private static KubernetesClient client;
  private static ConveyorOperator operator;

  @BeforeAll
  static void startOperator() {
    client = harness.client();
    operator = harness.startLeader("op-pipelines", Duration.ZERO, MutableClock.startingNow());
  }

  @Test
  void aPipelineIsPendingUntilASidecarServesItsMissingStageThenRunning() {
    client.resource(pipeline("invoices", "invoice-feed", List.of("enrich"), "ledger")).create();
    Pod edge = runningPod("edge-0", "10.2.0.1");
    try (SidecarPod edgeSidecar =
        harness.startSidecar(
            edge, "sc-edge-0", PodApps.source("invoice-feed"), PodApps.sink("ledger"))) {

      // The pipeline is Pending from its creation on, first with no replica at all: await the
      // status that counts the edge sidecar, not just the phase.
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> {
                Pipeline p = get("invoices");
                assertThat(p.getStatus()).as("status of invoices").isNotNull();
                assertThat(p.getStatus().getPhase()).isEqualTo(PipelinePhase.Pending);
                assertThat(p.getStatus().getStages())
                    .extracting(StageStatus::getName, StageStatus::getReplicas)
                    .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("invoice-feed", 1),
                        org.assertj.core.groups.Tuple.tuple("enrich", 0),
                        org.assertj.core.groups.Tuple.tuple("ledger", 1));
              });
      Pipeline pending = get("invoices");
      assertThat(pending.getStatus().getPhase()).isEqualTo(PipelinePhase.Pending);
      assertThat(pending.getStatus().getObservedGeneration())
          .isEqualTo(pending.getMetadata().getGeneration());
      assertThat(condition(pending, "Ready").getMessage()).contains("enrich (transform)");

      Pod worker = runningPod("enrich-0", "10.2.0.2");
      try (SidecarPod workerSidecar =
          harness.startSidecar(worker, "sc-enrich-0", PodApps.transform("enrich"))) {

        Pipeline running = awaitPhase("invoices", PipelinePhase.Running);
        assertThat(running.getStatus().getReplicaSummary())
            .isEqualTo("invoice-feed=1 enrich=1 ledger=1");
        assertThat(condition(running, "Ready").getStatus()).isEqualTo("True");
      }
    }
  }

  @Test
  void anInvalidSpecIsInvalidWithAMessageNamingTheField() {
    client.resource(pipeline("twice", "feed", List.of("clean", "clean"), "store")).create();

    Pipeline invalid = awaitPhase("twice", PipelinePhase.Invalid);

    Condition valid = condition(invalid, "Valid");
    assertThat(valid.getStatus()).isEqualTo("False");
    assertThat(valid.getReason()).isEqualTo("InvalidSpec");
    assertThat(valid.getMessage()).contains("spec.steps[1]").contains("repeats");
    assertThat(core().pipelines()).extracting(PipelineDefinition::name).doesNotContain("twice");
  }

  @Test
  void editingAndDeletingAPipelineReachesTheRouter() {
    client.resource(pipeline("audit", "audit-feed", List.of(), "audit-store")).create();
    awaitPhase("audit", PipelinePhase.Pending);
    await().until(() -> core().pipelines().stream().anyMatch(p -> p.name().equals("audit")));

    client
        .resources(Pipeline.class)
        .inNamespace(NS)
        .withName("audit")
        .edit(
            p -> {
              p.getSpec().setSteps(List.of("redact"));
              return p;
            });
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Pipeline seen = get("audit");
              assertThat(seen.getStatus().getObservedGeneration())
                  .isEqualTo(seen.getMetadata().getGeneration());
              assertThat(seen.getStatus().getStages())
                  .extracting(StageStatus::getName)
                  .contains("redact");
            });

    client.resource(get("audit")).delete();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> core().pipelines().stream().noneMatch(p -> p.name().equals("audit")));
  }

  // ------------------------------------------------------------------ helpers

  private static RouterCore core() {
    return operator.routerCore().orElseThrow();
  }

  private static Pod runningPod(String name, String ip) {
    Pod pod = client.resource(Pods.injected(NS, name)).create();
    pod.setStatus(Pods.running(ip, true));
    return client.resource(pod).updateStatus();
  }

  private static Pipeline pipeline(String name, String source, List<String> steps, String sink) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    pipeline.setSpec(new PipelineSpec(source, steps, sink, null));
    return pipeline;
  }

  private static Pipeline get(String name) {
    return client.resources(Pipeline.class).inNamespace(NS).withName(name).get();
  }

  private static Pipeline awaitPhase(String name, PipelinePhase phase) {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Pipeline p = get(name);
              assertThat(p.getStatus()).as("status of %s", name).isNotNull();
              assertThat(p.getStatus().getPhase()).as("phase of %s", name).isEqualTo(phase);
            });
    return get(name);
  }

  private static Condition condition(Pipeline pipeline, String type) {
    return pipeline.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }
}

package io.conveyor.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.PipelineStatus;
import io.conveyor.operator.crd.StageStatus;
import io.conveyor.operator.status.PipelineStatusCalculator.RouterOutcome;
import io.conveyor.operator.testing.Services;
import io.conveyor.router.pipeline.DeliverySpec;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.conveyor.router.plan.AssignmentPlanner;
import io.conveyor.router.plan.PipelinePlan;
import io.conveyor.router.registry.SidecarRecord;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PipelineStatusCalculatorTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  @Test
  void anInvalidSpecIsInvalidWithTheFieldInTheMessage() {
    PipelineSpec spec =
        new PipelineSpec("orders", List.of("mask-pii", "mask-pii"), "warehouse", null);
    PipelineValidation.Invalid invalid =
        (PipelineValidation.Invalid) PipelineValidator.validate("shop", "orders", 2, spec);

    PipelineStatus status =
        PipelineStatusCalculator.invalid(invalid.problems(), null, 2, T0).status();

    assertThat(status.getPhase()).isEqualTo(PipelinePhase.Invalid);
    assertThat(status.getObservedGeneration()).isEqualTo(2);
    assertThat(condition(status, "Valid").getStatus()).isEqualTo("False");
    assertThat(condition(status, "Valid").getMessage()).startsWith("spec.steps[1]");
    assertThat(condition(status, "Ready").getReason()).isEqualTo("InvalidSpec");
  }

  @Test
  void aStageWithoutReplicaKeepsThePipelinePendingAndIsNamed() {
    PipelinePlan plan =
        plan(definition(null), sidecar("a", Services.source("orders"), Services.sink("warehouse")));

    PipelineStatus status = valid(plan, null, Optional.empty()).status();

    assertThat(status.getPhase()).isEqualTo(PipelinePhase.Pending);
    assertThat(status.getReplicaSummary()).isEqualTo("orders=1 mask-pii=0 warehouse=1");
    assertThat(status.getStages())
        .extracting(StageStatus::getName, StageStatus::getRole, StageStatus::getReplicas)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("orders", "source", 1),
            org.assertj.core.groups.Tuple.tuple("mask-pii", "transform", 0),
            org.assertj.core.groups.Tuple.tuple("warehouse", "sink", 1));
    assertThat(condition(status, "StagesServed").getReason()).isEqualTo("StageUnserved");
    assertThat(condition(status, "Ready").getMessage())
        .contains("mask-pii (transform)")
        .contains("shop");
  }

  @Test
  void everyStageServedMeansRunning() {
    PipelinePlan plan =
        plan(
            definition(null),
            sidecar("a", Services.source("orders"), Services.sink("warehouse")),
            sidecar("b", Services.transform("mask-pii")),
            sidecar("c", Services.transform("mask-pii")));

    PipelineStatus status = valid(plan, null, Optional.empty()).status();

    assertThat(status.getPhase()).isEqualTo(PipelinePhase.Running);
    assertThat(status.getReplicaSummary()).isEqualTo("orders=1 mask-pii=2 warehouse=1");
    assertThat(condition(status, "Ready").getStatus()).isEqualTo("True");
  }

  @Test
  void anUnservedDeadLetterSinkOrADrainingReplicaIsDegraded() {
    DeliverySpec delivery = new DeliverySpec();
    delivery.setDeadLetterSink("parking-lot");
    PipelinePlan noDlq =
        plan(
            definition(delivery),
            sidecar(
                "a",
                Services.source("orders"),
                Services.transform("mask-pii"),
                Services.sink("warehouse")));
    PipelineStatus status = valid(noDlq, null, Optional.empty()).status();
    assertThat(status.getPhase()).isEqualTo(PipelinePhase.Degraded);
    assertThat(condition(status, "StagesServed").getReason()).isEqualTo("DeadLetterSinkUnserved");

    SidecarRecord draining =
        sidecar("d", Services.transform("mask-pii"))
            .withHeartbeat(
                T0,
                SidecarState.SIDECAR_STATE_DRAINING,
                List.of(Services.transform("mask-pii")),
                SidecarLoad.getDefaultInstance());
    PipelinePlan withDraining =
        plan(
            definition(null),
            sidecar(
                "a",
                Services.source("orders"),
                Services.transform("mask-pii"),
                Services.sink("warehouse")),
            draining);
    PipelineStatus drained = valid(withDraining, null, Optional.empty()).status();
    assertThat(drained.getPhase()).isEqualTo(PipelinePhase.Degraded);
    assertThat(condition(drained, "Ready").getReason()).isEqualTo("ReplicasDraining");
  }

  @Test
  void duringTheRouterWarmUpFewerReplicasAreHeldBackAndMoreAreWritten() {
    PipelinePlan full =
        plan(
            definition(null),
            sidecar(
                "a",
                Services.source("orders"),
                Services.transform("mask-pii"),
                Services.sink("warehouse")));
    PipelineStatus running = valid(full, null, Optional.empty()).status();
    PipelinePlan empty = plan(definition(null));
    Optional<Instant> warmUp = Optional.of(T0.plusSeconds(12));

    PipelineStatusCalculator.Result held =
        PipelineStatusCalculator.valid(
            new RouterOutcome.Planned(empty), running, 1, warmUp, T0.plusSeconds(2));
    assertThat(held.status()).isSameAs(running);
    assertThat(held.recheckAfter()).contains(Duration.ofSeconds(10));

    PipelineStatus after =
        PipelineStatusCalculator.valid(
                new RouterOutcome.Planned(empty), running, 1, warmUp, T0.plusSeconds(12))
            .status();
    assertThat(after.getPhase()).isEqualTo(PipelinePhase.Pending);

    PipelineStatus pending = after;
    PipelineStatus better =
        PipelineStatusCalculator.valid(
                new RouterOutcome.Planned(full), pending, 1, warmUp, T0.plusSeconds(3))
            .status();
    assertThat(better.getPhase()).isEqualTo(PipelinePhase.Running);
  }

  @Test
  void aPipelineTheRouterRefusesIsPendingWithTheReason() {
    PipelineStatus status =
        PipelineStatusCalculator.valid(
                new RouterOutcome.Refused("the router holds at most 1 pipelines"),
                null,
                1,
                Optional.empty(),
                T0)
            .status();

    assertThat(status.getPhase()).isEqualTo(PipelinePhase.Pending);
    assertThat(condition(status, "Ready").getReason()).isEqualTo("RouterRefused");
  }

  // ------------------------------------------------------------------ helpers

  private static PipelineStatusCalculator.Result valid(
      PipelinePlan plan, PipelineStatus previous, Optional<Instant> warmUp) {
    return PipelineStatusCalculator.valid(new RouterOutcome.Planned(plan), previous, 1, warmUp, T0);
  }

  private static PipelineDefinition definition(DeliverySpec delivery) {
    PipelineSpec spec = new PipelineSpec("orders", List.of("mask-pii"), "warehouse", delivery);
    return ((PipelineValidation.Valid) PipelineValidator.validate("shop", "orders", 1, spec))
        .definition();
  }

  private static PipelinePlan plan(PipelineDefinition definition, SidecarRecord... sidecars) {
    return AssignmentPlanner.plan(List.of(definition), List.of(sidecars))
        .pipeline(definition.key())
        .orElseThrow();
  }

  private static SidecarRecord sidecar(String id, DiscoveredService... services) {
    return new SidecarRecord(
        id,
        "shop",
        "pod-" + id,
        "uid-" + id,
        "10.0.0.1",
        "10.0.0.1:9091",
        "0.1.0",
        SidecarState.SIDECAR_STATE_SERVING,
        List.of(services),
        Duration.ofSeconds(5),
        T0,
        T0,
        SidecarLoad.getDefaultInstance(),
        "");
  }

  private static Condition condition(PipelineStatus status, String type) {
    return status.getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no condition " + type));
  }
}

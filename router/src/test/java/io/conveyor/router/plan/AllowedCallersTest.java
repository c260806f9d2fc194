package io.conveyor.router.plan;

import static io.conveyor.router.testing.Fixtures.record;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.router.pipeline.DeliveryOptions;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.router.testing.Fixtures;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Under mutual TLS each sidecar learns, with its assignments, which identities may forward batches
 * into the stages it runs: the sidecars of the stage before (for a dead-letter sink, of every other
 * stage), and nothing about stages it does not run.
 */
class AllowedCallersTest {

  private static final PipelineDefinition ORDERS =
      new PipelineDefinition(
          "default",
          "orders-etl",
          1,
          "orders",
          List.of("mask-pii"),
          "warehouse",
          new DeliveryOptions(
              500, 3, Duration.ofMillis(100), Duration.ofSeconds(30), Optional.of("dlq")));

  private final List<SidecarRecord> sidecars =
      List.of(
          identified(record("sc-a", source("orders"))),
          identified(record("sc-b", transform("mask-pii"))),
          identified(record("sc-c", transform("mask-pii"))),
          identified(record("sc-d", sink("warehouse"))),
          identified(record("sc-e", sink("dlq"))));

  @Test
  void aStageAcceptsBatchesOnlyFromTheSidecarsOfTheStageBeforeIt() {
    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), sidecars);

    assertThat(stage(plan, "sc-b", "mask-pii").getAllowedCallersList())
        .containsExactly(uri("sc-a"));
    assertThat(stage(plan, "sc-d", "warehouse").getAllowedCallersList())
        .containsExactly(uri("sc-b"), uri("sc-c"));
    assertThat(stage(plan, "sc-a", "orders").getAllowedCallersList()).isEmpty();
  }

  /**
   * Beyond the subset size, a transform accepts only the sources whose subset holds it: about size
   * × sources / transforms of them, not every source.
   */
  @Test
  void beyondTheSubsetSizeAStageAcceptsOnlyTheCallersWhoseSubsetHoldsIt() {
    List<SidecarRecord> fleet = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      fleet.add(identified(record("src-" + i, source("orders"))));
      fleet.add(identified(record("tr-" + i, transform("mask-pii"))));
    }
    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), fleet, RoutingPlan.EMPTY, 4);

    int accepted = 0;
    for (int i = 0; i < 40; i++) {
      List<String> callers = stage(plan, "tr-" + i, "mask-pii").getAllowedCallersList();
      assertThat(callers).hasSizeLessThan(40);
      for (int s = 0; s < 40; s++) {
        boolean holds = Fixtures.targetIds(stage(plan, "src-" + s, "mask-pii")).contains("tr-" + i);
        assertThat(callers.contains(uri("src-" + s))).as("src-%d → tr-%d", s, i).isEqualTo(holds);
      }
      accepted += callers.size();
    }
    assertThat(accepted).isEqualTo(40 * 4); // every source's four transforms accept it
  }

  @Test
  void theDeadLetterSinkAcceptsBatchesFromEveryOtherStage() {
    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), sidecars);

    assertThat(stage(plan, "sc-e", "dlq").getAllowedCallersList())
        .containsExactly(uri("sc-a"), uri("sc-b"), uri("sc-c"), uri("sc-d"));
  }

  @Test
  void aSidecarLearnsTheAllowedCallersOnlyOfTheStagesItRuns() {
    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), sidecars);

    PipelineAssignment ofSource = assignment(plan, "sc-a");
    for (StageAssignment stage : ofSource.getStagesList()) {
      if (!stage.getLocal()) {
        assertThat(stage.getAllowedCallersList()).as(stage.getName()).isEmpty();
      }
    }
  }

  @Test
  void targetsCarryTheIdentityTheirCallersCheck() {
    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), sidecars);

    assertThat(stage(plan, "sc-b", "warehouse").getTargets(0).getIdentity()).isEqualTo(uri("sc-d"));
  }

  @Test
  void withoutCertificatesNoStageNamesAnyCaller() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record("sc-a", source("orders")),
                record("sc-b", transform("mask-pii")),
                record("sc-d", sink("warehouse"))));

    assertThat(stage(plan, "sc-d", "warehouse").getAllowedCallersList()).isEmpty();
    assertThat(stage(plan, "sc-b", "warehouse").getTargets(0).getIdentity()).isEmpty();
  }

  private static String uri(String id) {
    return "spiffe://conveyor.etl/ns/default/pod/pod-" + id + "/sa/default";
  }

  private static SidecarRecord identified(SidecarRecord r) {
    return Fixtures.identified(r, uri(r.sidecarId()));
  }

  private static PipelineAssignment assignment(RoutingPlan plan, String sidecarId) {
    List<PipelineAssignment> assignments = plan.assignmentsFor(sidecarId);
    assertThat(assignments).hasSize(1);
    return assignments.get(0);
  }

  private static StageAssignment stage(RoutingPlan plan, String sidecarId, String name) {
    return assignment(plan, sidecarId).getStagesList().stream()
        .filter(s -> s.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }
}

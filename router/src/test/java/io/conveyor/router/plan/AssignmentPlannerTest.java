package io.conveyor.router.plan;

import static io.conveyor.router.testing.Fixtures.notServing;
import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.record;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.stage;
import static io.conveyor.router.testing.Fixtures.targetIds;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.router.testing.Fixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AssignmentPlannerTest {

  private static final PipelineDefinition ORDERS =
      pipeline("orders-etl", "orders", List.of("mask-pii", "enrich"), "warehouse");

  private static PipelineAssignment only(RoutingPlan plan, String sidecarId) {
    List<PipelineAssignment> assignments = plan.assignmentsFor(sidecarId);
    assertThat(assignments).hasSize(1);
    return assignments.get(0);
  }

  @Test
  void everyReplicaOfEveryStageIsATargetSortedBySidecarId() {
    List<SidecarRecord> sidecars =
        List.of(
            record("sc-d", sink("warehouse")),
            record("sc-c", transform("mask-pii"), transform("enrich")),
            record("sc-b", transform("mask-pii")),
            record("sc-a", source("orders")),
            record("sc-e", sink("warehouse")),
            record("sc-f", transform("enrich")));

    RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), sidecars);
    PipelineAssignment a = only(plan, "sc-a");
    PipelineAssignment c = only(plan, "sc-c");

    // Each sidecar gets the targets of the stages it runs and of the stage after each of them.
    assertThat(targetIds(stage(a, "orders"))).containsExactly("sc-a");
    assertThat(targetIds(stage(a, "mask-pii"))).containsExactly("sc-b", "sc-c");
    assertThat(targetIds(stage(c, "enrich"))).containsExactly("sc-c", "sc-f");
    assertThat(targetIds(stage(c, "warehouse"))).containsExactly("sc-d", "sc-e");
  }

  @Test
  void aSidecarLearnsNoTargetsOfStagesItNeitherRunsNorHandsBatchesTo() {
    List<SidecarRecord> sidecars =
        List.of(
            record("sc-a", source("orders")),
            record("sc-b", transform("mask-pii")),
            record("sc-c", transform("enrich")),
            record("sc-d", sink("warehouse")));

    PipelineAssignment a = only(AssignmentPlanner.plan(List.of(ORDERS), sidecars), "sc-a");

    assertThat(targetIds(stage(a, "mask-pii"))).containsExactly("sc-b");
    assertThat(stage(a, "enrich").getTargetsList()).isEmpty();
    assertThat(stage(a, "warehouse").getTargetsList()).isEmpty();
    assertThat(stage(a, "warehouse").getName()).isEqualTo("warehouse");
  }

  @Test
  void targetsCarryEndpointPodAndNamespace() {
    PipelineAssignment a =
        only(
            AssignmentPlanner.plan(
                List.of(pipeline("direct", "orders", List.of(), "warehouse")),
                List.of(record("sc-a", source("orders")), record("sc-b", sink("warehouse")))),
            "sc-a");

    StageTarget target = stage(a, "warehouse").getTargets(0);
    assertThat(target.getEndpoint()).isEqualTo(Fixtures.endpointOf("sc-b"));
    assertThat(target.getPodName()).isEqualTo("pod-sc-b");
    assertThat(target.getNamespace()).isEqualTo("default");
  }

  @Test
  void thePlanDoesNotDependOnTheOrderSidecarsAreGivenIn() {
    List<SidecarRecord> sidecars = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      sidecars.add(
          record(
              "sc-" + i, i % 3 == 0 ? source("orders") : transform("mask-pii"), sink("warehouse")));
    }
    RoutingPlan reference = AssignmentPlanner.plan(List.of(ORDERS), sidecars);
    Random random = new Random(42);

    for (int round = 0; round < 20; round++) {
      List<SidecarRecord> shuffled = new ArrayList<>(sidecars);
      Collections.shuffle(shuffled, random);
      RoutingPlan plan = AssignmentPlanner.plan(List.of(ORDERS), shuffled);
      for (SidecarRecord sidecar : sidecars) {
        assertThat(plan.assignmentsFor(sidecar.sidecarId()))
            .isEqualTo(reference.assignmentsFor(sidecar.sidecarId()));
      }
    }
  }

  @Test
  void sidecarsWithTheSameLocalStagesAndAStageWithinTheSubsetSizeHoldEqualAssignments() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record("sc-a", source("orders")),
                record("sc-b", transform("mask-pii")),
                record("sc-c", transform("mask-pii")),
                record("sc-d", transform("enrich"), sink("warehouse"))));

    assertThat(only(plan, "sc-b")).isEqualTo(only(plan, "sc-c"));
    assertThat(only(plan, "sc-a")).isNotEqualTo(only(plan, "sc-b"));
    assertThat(stage(only(plan, "sc-d"), "enrich").getLocal()).isTrue();
    assertThat(stage(only(plan, "sc-d"), "warehouse").getLocal()).isTrue();
    assertThat(stage(only(plan, "sc-d"), "mask-pii").getLocal()).isFalse();
  }

  @Test
  void whatDidNotChangeIsCarriedOverAsTheSameMessages() {
    PipelineDefinition other = pipeline("audit", "clicks", List.of(), "archive");
    List<SidecarRecord> sidecars =
        new ArrayList<>(
            List.of(
                record("sc-a", source("orders"), source("clicks")),
                record("sc-b", transform("mask-pii"), transform("enrich")),
                record("sc-c", sink("warehouse"), sink("archive"))));
    RoutingPlan before = AssignmentPlanner.plan(List.of(ORDERS, other), sidecars);

    sidecars.add(record("sc-d", sink("warehouse"))); // a new orders-etl replica only
    RoutingPlan after = AssignmentPlanner.plan(List.of(ORDERS, other), sidecars, before);

    List<PipelineAssignment> was = before.assignmentsFor("sc-a");
    List<PipelineAssignment> is = after.assignmentsFor("sc-a");
    assertThat(is)
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("audit", "orders-etl");
    assertThat(is.get(0)).as("audit did not change").isSameAs(was.get(0));
    // The source hands its batches to the transforms, not to the sink: the new sink replica is
    // none of its business, and its orders-etl assignment is carried over as it was.
    assertThat(is.get(1)).as("orders-etl, seen from its source").isEqualTo(was.get(1));
    PipelineAssignment transforms = only(after, "sc-b");
    assertThat(transforms)
        .as("orders-etl gained a sink replica")
        .isNotEqualTo(only(before, "sc-b"));
    assertThat(targetIds(stage(transforms, "warehouse"))).containsExactly("sc-c", "sc-d");
    // And the result is what planning from scratch gives.
    RoutingPlan fresh = AssignmentPlanner.plan(List.of(ORDERS, other), sidecars);
    for (SidecarRecord sidecar : sidecars) {
      assertThat(after.assignmentsFor(sidecar.sidecarId()))
          .isEqualTo(fresh.assignmentsFor(sidecar.sidecarId()));
    }
  }

  @Test
  void planningFromThePreviousPlanAlwaysEqualsPlanningFromScratch() {
    Random random = new Random(7);
    List<String> services = List.of("orders", "mask-pii", "enrich", "warehouse", "parking-lot");
    RoutingPlan previous = RoutingPlan.EMPTY;
    for (int round = 0; round < 300; round++) {
      List<PipelineDefinition> pipelines = new ArrayList<>(List.of(ORDERS));
      if (random.nextBoolean()) {
        pipelines.set(0, ORDERS.withGeneration(1 + random.nextInt(3))); // generation changes
      }
      if (random.nextBoolean()) {
        pipelines.set(0, Fixtures.withDeadLetter(pipelines.get(0), "parking-lot"));
      }
      if (random.nextBoolean()) {
        pipelines.add(pipeline("audit", "orders", List.of(), "parking-lot"));
      }
      List<SidecarRecord> sidecars = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        if (random.nextInt(4) == 0) {
          continue; // not registered this round
        }
        String name = services.get(random.nextInt(services.size()));
        ServiceType type =
            name.equals("orders")
                ? ServiceType.SERVICE_TYPE_SOURCE
                : name.equals("mask-pii") || name.equals("enrich")
                    ? ServiceType.SERVICE_TYPE_TRANSFORM
                    : ServiceType.SERVICE_TYPE_SINK;
        ServiceHealth health =
            random.nextInt(5) == 0
                ? ServiceHealth.SERVICE_HEALTH_NOT_SERVING
                : ServiceHealth.SERVICE_HEALTH_SERVING;
        SidecarState state =
            random.nextInt(5) == 0
                ? SidecarState.SIDECAR_STATE_DRAINING
                : SidecarState.SIDECAR_STATE_SERVING;
        sidecars.add(record("sc-" + i, "default", state, Fixtures.service(name, type, health)));
      }

      RoutingPlan incremental = AssignmentPlanner.plan(pipelines, sidecars, previous);
      RoutingPlan fresh = AssignmentPlanner.plan(pipelines, sidecars);
      for (int i = 0; i < 8; i++) {
        assertThat(incremental.assignmentsFor("sc-" + i))
            .as("round %d, sc-%d", round, i)
            .isEqualTo(fresh.assignmentsFor("sc-" + i));
      }
      previous = incremental;
    }
  }

  @Test
  void stagesKeepPipelineOrderWithIndicesAndRoles() {
    PipelineDefinition p =
        Fixtures.withDeadLetter(
            pipeline("p", "orders", List.of("zeta", "alpha"), "warehouse"), "parking-lot");
    PipelineAssignment a =
        only(AssignmentPlanner.plan(List.of(p), List.of(record("sc-a", source("orders")))), "sc-a");

    assertThat(a.getStagesList())
        .extracting(StageAssignment::getIndex, StageAssignment::getName, StageAssignment::getRole)
        .containsExactly(
            tuple(0, "orders", io.conveyor.etl.v1.StageRole.STAGE_ROLE_SOURCE),
            tuple(1, "zeta", io.conveyor.etl.v1.StageRole.STAGE_ROLE_TRANSFORM),
            tuple(2, "alpha", io.conveyor.etl.v1.StageRole.STAGE_ROLE_TRANSFORM),
            tuple(3, "warehouse", io.conveyor.etl.v1.StageRole.STAGE_ROLE_SINK),
            tuple(4, "parking-lot", io.conveyor.etl.v1.StageRole.STAGE_ROLE_DEAD_LETTER));
  }

  @Test
  void localMarksExactlyTheStagesTheReceiversPodRuns() {
    PipelineAssignment a =
        only(
            AssignmentPlanner.plan(
                List.of(ORDERS),
                List.of(
                    record("sc-a", source("orders"), transform("mask-pii")),
                    record("sc-b", transform("enrich"), sink("warehouse")))),
            "sc-a");

    assertThat(a.getStagesList())
        .extracting(StageAssignment::getName, StageAssignment::getLocal)
        .containsExactly(
            tuple("orders", true),
            tuple("mask-pii", true),
            tuple("enrich", false),
            tuple("warehouse", false));
  }

  @Test
  void assignmentCarriesGenerationAndResolvedDeliveryOptions() {
    PipelineAssignment a =
        only(
            AssignmentPlanner.plan(
                List.of(ORDERS.withGeneration(6)), List.of(record("sc-a", source("orders")))),
            "sc-a");

    assertThat(a.getPipeline()).isEqualTo("orders-etl");
    assertThat(a.getGeneration()).isEqualTo(6);
    assertThat(a.getDelivery().getMaxBatchSize()).isEqualTo(500);
    assertThat(a.getDelivery().getMaxRetries()).isEqualTo(3);
    assertThat(a.getDelivery().getRetryBackoffMillis()).isEqualTo(100);
    assertThat(a.getDelivery().getBatchTimeoutMillis()).isEqualTo(30_000);
  }

  @Test
  void aServiceOfTheWrongTypeDoesNotHostAStageOfTheSameName() {
    // A sink that happens to be called like a step must not receive transform traffic.
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(record("sc-a", source("orders")), record("sc-x", sink("mask-pii"))));

    assertThat(targetIds(stage(only(plan, "sc-a"), "mask-pii"))).isEmpty();
    assertThat(plan.assignmentsFor("sc-x")).isEmpty();
  }

  @Test
  void aNotServingServiceDoesNotHostButAnUnspecifiedHealthDoes() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record("sc-a", source("orders")),
                record("sc-b", notServing(transform("mask-pii"))),
                record(
                    "sc-c",
                    Fixtures.service(
                        "mask-pii",
                        ServiceType.SERVICE_TYPE_TRANSFORM,
                        ServiceHealth.SERVICE_HEALTH_UNSPECIFIED))));

    assertThat(targetIds(stage(only(plan, "sc-a"), "mask-pii"))).containsExactly("sc-c");
    assertThat(plan.assignmentsFor("sc-b")).isEmpty();
  }

  @Test
  void aDrainingSidecarKeepsItsAssignmentButIsNoLongerATarget() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record("sc-a", source("orders")),
                record(
                    "sc-b", "default", SidecarState.SIDECAR_STATE_DRAINING, transform("mask-pii")),
                record("sc-c", transform("mask-pii"))));

    StageAssignment seenByB = stage(only(plan, "sc-b"), "mask-pii");
    assertThat(seenByB.getLocal()).isTrue();
    assertThat(targetIds(seenByB)).containsExactly("sc-c");
    assertThat(targetIds(stage(only(plan, "sc-a"), "mask-pii"))).containsExactly("sc-c");
    StagePlan stagePlan = plan.pipeline("default/orders-etl").orElseThrow().stages().get(1);
    assertThat(stagePlan.hosts())
        .extracting(SidecarRecord::sidecarId)
        .containsExactly("sc-b", "sc-c");
    assertThat(stagePlan.replicas()).isEqualTo(1);
  }

  @Test
  void namespacesIsolatePipelinesFromOtherNamespacesServices() {
    PipelineDefinition inA = pipeline("team-a", "orders-etl", "orders", List.of(), "warehouse");
    PipelineDefinition inB = pipeline("team-b", "orders-etl", "orders", List.of(), "warehouse");
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(inA, inB),
            List.of(
                record("a-src", "team-a", SidecarState.SIDECAR_STATE_SERVING, source("orders")),
                record("a-snk", "team-a", SidecarState.SIDECAR_STATE_SERVING, sink("warehouse")),
                record("b-snk", "team-b", SidecarState.SIDECAR_STATE_SERVING, sink("warehouse")),
                record(
                    "c-all",
                    "team-c",
                    SidecarState.SIDECAR_STATE_SERVING,
                    source("orders"),
                    sink("warehouse"))));

    assertThat(targetIds(stage(only(plan, "a-src"), "warehouse"))).containsExactly("a-snk");
    assertThat(targetIds(stage(only(plan, "b-snk"), "orders"))).isEmpty();
    assertThat(plan.assignmentsFor("c-all")).isEmpty();
    assertThat(plan.pipeline("team-b/orders-etl").orElseThrow().unservedStages())
        .extracting(s -> s.stage().name())
        .containsExactly("orders");
  }

  @Test
  void aSidecarThatRunsNothingOfAPipelineGetsNoAssignment() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record("sc-a", source("orders")),
                record("sc-idle", transform("unrelated")),
                record("sc-empty")));

    assertThat(plan.assignmentsFor("sc-idle")).isEmpty();
    assertThat(plan.assignmentsFor("sc-empty")).isEmpty();
    assertThat(plan.assignmentsFor("not-registered")).isEmpty();
  }

  @Test
  void aSidecarInSeveralPipelinesGetsThemOrderedByName() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(
                pipeline("zulu", "orders", List.of(), "warehouse"),
                pipeline("alpha", "orders", List.of(), "ledger"),
                pipeline("mike", "refunds", List.of(), "ledger")),
            List.of(record("sc-a", source("orders"), sink("ledger"))));

    assertThat(plan.assignmentsFor("sc-a"))
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("alpha", "mike", "zulu");
  }

  @Test
  void unservedStagesListsStagesWithoutAnAcceptingReplicaInOrder() {
    PipelineDefinition p =
        Fixtures.withDeadLetter(
            pipeline("p", "orders", List.of("mask-pii", "enrich"), "warehouse"), "parking-lot");
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(p),
            List.of(
                record("sc-a", source("orders"), transform("enrich")),
                record("sc-b", "default", SidecarState.SIDECAR_STATE_DRAINING, sink("warehouse"))));

    assertThat(plan.pipeline("default/p").orElseThrow().unservedStages())
        .extracting(s -> s.stage().name())
        .containsExactly("mask-pii", "warehouse", "parking-lot");
  }

  @Test
  void aFullyServedPipelineHasNoUnservedStages() {
    RoutingPlan plan =
        AssignmentPlanner.plan(
            List.of(ORDERS),
            List.of(
                record(
                    "sc-a",
                    source("orders"),
                    transform("mask-pii"),
                    transform("enrich"),
                    sink("warehouse"))));

    assertThat(plan.pipeline("default/orders-etl").orElseThrow().unservedStages()).isEmpty();
  }

  @Test
  void noPipelinesNoPlans() {
    RoutingPlan plan = AssignmentPlanner.plan(List.of(), List.of(record("sc-a", source("orders"))));

    assertThat(plan.pipelines()).isEmpty();
    assertThat(plan.assignmentsFor("sc-a")).isEmpty();
    assertThat(RoutingPlan.EMPTY.pipeline("default/orders-etl")).isEmpty();
  }
}

package io.conveyor.router.plan;

import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.record;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.common.contract.RendezvousSubset.Candidate;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.StageRole;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.router.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The planner's subsets, derived step by step from the previous plan, are at every step what the
 * pure function gives from scratch, and so are the allowed callers derived from them: a stage's
 * host accepts exactly the upstream sidecars whose subset holds it.
 */
class SubsetPlanningTest {

  private static final int SIZE = 3;
  private static final List<String> SERVICES =
      List.of("orders", "mask-pii", "warehouse", "parking-lot");

  @Test
  void everyStepOfARandomHistoryMatchesThePureFunction() {
    for (long seed = 1; seed <= 6; seed++) {
      Random random = new Random(seed);
      List<PipelineDefinition> pipelines =
          List.of(
              Fixtures.withDeadLetter(
                  pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse"),
                  "parking-lot"));
      Map<String, SidecarRecord> fleet = new TreeMap<>();
      RoutingPlan previous = RoutingPlan.EMPTY;
      for (int step = 0; step < 120; step++) {
        change(fleet, random);
        List<SidecarRecord> sidecars = new ArrayList<>(fleet.values());
        RoutingPlan incremental = AssignmentPlanner.plan(pipelines, sidecars, previous, SIZE);
        RoutingPlan fresh = AssignmentPlanner.plan(pipelines, sidecars, RoutingPlan.EMPTY, SIZE);
        for (SidecarRecord sidecar : sidecars) {
          String id = sidecar.sidecarId();
          assertThat(incremental.assignmentsFor(id))
              .as("seed %d step %d %s", seed, step, id)
              .isEqualTo(fresh.assignmentsFor(id));
          checkAgainstThePureFunction(fresh, sidecar, fleet, seed, step);
        }
        previous = incremental;
      }
    }
  }

  /** One random event: a sidecar registers, re-registers changed, or leaves. */
  private static void change(Map<String, SidecarRecord> fleet, Random random) {
    String id = "sc-" + random.nextInt(30);
    if (fleet.containsKey(id) && random.nextInt(4) == 0) {
      fleet.remove(id);
      return;
    }
    String name = SERVICES.get(random.nextInt(SERVICES.size()));
    ServiceType type =
        name.equals("orders")
            ? ServiceType.SERVICE_TYPE_SOURCE
            : name.equals("mask-pii")
                ? ServiceType.SERVICE_TYPE_TRANSFORM
                : ServiceType.SERVICE_TYPE_SINK;
    ServiceHealth health =
        random.nextInt(8) == 0
            ? ServiceHealth.SERVICE_HEALTH_NOT_SERVING
            : ServiceHealth.SERVICE_HEALTH_SERVING;
    SidecarState state =
        random.nextInt(6) == 0
            ? SidecarState.SIDECAR_STATE_DRAINING
            : SidecarState.SIDECAR_STATE_SERVING;
    List<io.conveyor.etl.v1.DiscoveredService> services = new ArrayList<>();
    services.add(Fixtures.service(name, type, health));
    if (random.nextInt(5) == 0) { // a pod that runs two stages
      services.add(Fixtures.service("warehouse", ServiceType.SERVICE_TYPE_SINK, health));
    }
    SidecarRecord record =
        record(id, "default", state, services.toArray(io.conveyor.etl.v1.DiscoveredService[]::new));
    if (random.nextInt(3) > 0) { // most under mutual TLS, some identities change on re-register
      record =
          Fixtures.identified(
              record,
              "spiffe://conveyor.etl/ns/default/pod/pod-" + id + "/sa/v" + random.nextInt(2));
    }
    fleet.put(id, record);
  }

  private static void checkAgainstThePureFunction(
      RoutingPlan plan,
      SidecarRecord sidecar,
      Map<String, SidecarRecord> fleet,
      long seed,
      int step) {
    for (PipelineAssignment assignment : plan.assignmentsFor(sidecar.sidecarId())) {
      PipelinePlan pipeline = plan.pipeline("default/" + assignment.getPipeline()).orElseThrow();
      List<StagePlan> stages = pipeline.stages();
      for (int i = 0; i < stages.size(); i++) {
        StagePlan stage = stages.get(i);
        StageAssignment sent = assignment.getStages(i);
        boolean deadLetter = stage.stage().role() == StageRole.DEAD_LETTER;
        boolean runs = stage.hostedBy(sidecar.sidecarId());
        boolean told =
            runs || (i > 0 && stages.get(i - 1).hostedBy(sidecar.sidecarId())) || deadLetter;
        List<String> expected =
            told
                ? RendezvousSubset.choose(
                    sidecar.sidecarId(), sidecar.podKey(), candidates(stage.targets(), null), SIZE)
                : List.of();
        assertThat(Fixtures.targetIds(sent))
            .as(
                "seed %d step %d %s stage %s targets",
                seed, step, sidecar.sidecarId(), stage.stage().name())
            .isEqualTo(expected);
        TreeSet<String> allowed = new TreeSet<>();
        if (runs) {
          for (SidecarRecord caller : fleet.values()) {
            boolean upstream =
                deadLetter
                    ? stages.stream().anyMatch(s -> s != stage && s.hostedBy(caller.sidecarId()))
                    : i > 0 && stages.get(i - 1).hostedBy(caller.sidecarId());
            if (upstream
                && !caller.workloadIdentity().isEmpty()
                && RendezvousSubset.choose(
                        caller.sidecarId(),
                        caller.podKey(),
                        candidates(stage.targets(), sidecar),
                        SIZE)
                    .contains(sidecar.sidecarId())) {
              allowed.add(caller.workloadIdentity());
            }
          }
        }
        assertThat(sent.getAllowedCallersList())
            .as(
                "seed %d step %d %s stage %s allowed callers",
                seed, step, sidecar.sidecarId(), stage.stage().name())
            .containsExactlyElementsOf(allowed);
      }
    }
  }

  /** The stage's targets as the pure function takes them, plus {@code also} if it is not one. */
  private static List<Candidate> candidates(List<SidecarRecord> targets, SidecarRecord also) {
    List<Candidate> candidates = new ArrayList<>();
    for (SidecarRecord target : targets) {
      candidates.add(new Candidate(target.sidecarId(), target.podKey()));
    }
    if (also != null && targets.stream().noneMatch(t -> t.sidecarId().equals(also.sidecarId()))) {
      candidates.add(new Candidate(also.sidecarId(), also.podKey()));
    }
    return candidates;
  }
}

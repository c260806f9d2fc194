package io.conveyor.router.plan;

import static io.conveyor.router.testing.Fixtures.notServing;
import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.transform;
import static io.conveyor.router.testing.Fixtures.withDeadLetter;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Planning told only which sidecars changed gives the plan of planning from nothing, where every
 * caller's subset is ranked afresh and no previous table is patched. Random histories with a fixed
 * seed — sidecars registering (alone or several per re-plan, as the router's group commit plans
 * them), re-registering unchanged, changing services, health, state, endpoint, pod or identity,
 * leaving; pipelines added, changed and removed — are planned both ways, and after every step each
 * sidecar's assignments, its incomplete pipelines and every stage's hosts and targets must be
 * equal. The plan must also name every sidecar whose assignments are not the previous plan's
 * instances: the router compares only those.
 */
class IncrementalPlanningPropertyTest {

  private static final long SEED = 20_261_207L;
  private static final int RUNS = 40;
  private static final int STEPS = 120;
  private static final int[] SUBSET_SIZES = {1, 2, 3, 16};

  private static final List<PipelineDefinition> PIPELINES =
      List.of(
          pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse"),
          withDeadLetter(
              pipeline("refunds-etl", "refunds", List.of("mask-pii", "enrich"), "warehouse"),
              "dlq"),
          pipeline("audit", "orders", List.of(), "archive"),
          pipeline("other", "audit-ns", "orders", List.of(), "archive"));

  private static final List<DiscoveredService> SERVICES =
      List.of(
          source("orders"),
          source("refunds"),
          transform("mask-pii"),
          transform("enrich"),
          sink("warehouse"),
          sink("archive"),
          sink("dlq"));

  private static final String[] IDENTITIES = {"", "", "spiffe://a", "spiffe://b"};

  private final Random random = new Random(SEED);
  private long checkedAssignments;
  private long incrementalSteps;

  @Test
  void planningTheChangedSidecarsGivesThePlanOfLookingAtAll() {
    for (int run = 0; run < RUNS; run++) {
      oneRun(SUBSET_SIZES[run % SUBSET_SIZES.length], 6 + random.nextInt(30));
    }
    assertThat(incrementalSteps)
        .as("most steps kept the pipelines, so the planner worked from the changed sidecars")
        .isGreaterThan(RUNS * STEPS / 2);
    assertThat(checkedAssignments).isGreaterThan(10_000);
  }

  private void oneRun(int subsetSize, int fleet) {
    Map<String, SidecarRecord> sidecars = new LinkedHashMap<>();
    List<PipelineDefinition> pipelines = new ArrayList<>(PIPELINES.subList(0, 2));
    RoutingPlan incremental = RoutingPlan.EMPTY;
    Set<String> everyId = new TreeSet<>();
    for (int step = 0; step < STEPS; step++) {
      Set<String> changed = new HashSet<>();
      int changes = random.nextInt(10) == 0 ? 1 + random.nextInt(6) : 1;
      for (int c = 0; c < changes; c++) {
        change(sidecars, pipelines, changed, fleet);
      }
      everyId.addAll(sidecars.keySet());
      RoutingPlan before = incremental;
      incremental =
          AssignmentPlanner.plan(
              pipelines, new LinkedHashMap<>(sidecars), incremental, subsetSize, changed);
      RoutingPlan fromNothing =
          AssignmentPlanner.plan(pipelines, sidecars.values(), RoutingPlan.EMPTY, subsetSize);
      if (incremental.changedSidecars().isPresent()) {
        incrementalSteps++;
      }
      String where = "subset size " + subsetSize + ", step " + step + ", changed " + changed;
      assertSamePlan(incremental, fromNothing, everyId, where);
      assertNamesEveryChange(before, incremental, everyId, where);
    }
  }

  private void change(
      Map<String, SidecarRecord> sidecars,
      List<PipelineDefinition> pipelines,
      Set<String> changed,
      int fleet) {
    int what = random.nextInt(100);
    List<String> ids = new ArrayList<>(sidecars.keySet());
    String some = ids.isEmpty() ? null : ids.get(random.nextInt(ids.size()));
    if (what < 3) { // pipelines change: the planner must notice and look at everyone
      PipelineDefinition toggled = PIPELINES.get(random.nextInt(PIPELINES.size()));
      if (!pipelines.remove(toggled)) {
        pipelines.add(toggled);
      }
    } else if (what < 45 || some == null) {
      String id = "sc-" + random.nextInt(fleet);
      sidecars.put(id, fresh(id));
      changed.add(id);
    } else if (what < 55) {
      sidecars.remove(some);
      changed.add(some);
    } else if (what < 65) { // a heartbeat: another instance of the same record
      sidecars.put(some, copy(sidecars.get(some), null, null, null, null));
      changed.add(some);
    } else if (what < 75) {
      SidecarState state =
          random.nextBoolean()
              ? SidecarState.SIDECAR_STATE_DRAINING
              : SidecarState.SIDECAR_STATE_SERVING;
      sidecars.put(some, copy(sidecars.get(some), state, null, null, null));
      changed.add(some);
    } else if (what < 85) {
      sidecars.put(some, copy(sidecars.get(some), null, services(), null, null));
      changed.add(some);
    } else if (what < 92) {
      String identity = IDENTITIES[random.nextInt(IDENTITIES.length)];
      sidecars.put(some, copy(sidecars.get(some), null, null, identity, null));
      changed.add(some);
    } else {
      String endpoint = "10.9." + random.nextInt(4) + ".1:" + (9000 + random.nextInt(3));
      sidecars.put(some, copy(sidecars.get(some), null, null, null, endpoint));
      changed.add(some);
    }
  }

  private SidecarRecord fresh(String id) {
    String namespace = random.nextInt(8) == 0 ? "audit-ns" : "default";
    String uid = "uid-" + id + (random.nextInt(5) == 0 ? "-" + random.nextInt(3) : "");
    return new SidecarRecord(
        id,
        namespace,
        "pod-" + id,
        uid,
        "10.0.0.1",
        id + ":9091",
        "test",
        random.nextInt(6) == 0
            ? SidecarState.SIDECAR_STATE_DRAINING
            : SidecarState.SIDECAR_STATE_SERVING,
        services(),
        Duration.ofSeconds(5),
        MutableClock.START,
        MutableClock.START,
        SidecarLoad.getDefaultInstance(),
        IDENTITIES[random.nextInt(IDENTITIES.length)]);
  }

  private List<DiscoveredService> services() {
    List<DiscoveredService> services = new ArrayList<>();
    int count = 1 + (random.nextInt(4) == 0 ? 1 : 0);
    for (int i = 0; i < count; i++) {
      DiscoveredService service = SERVICES.get(random.nextInt(SERVICES.size()));
      services.add(random.nextInt(8) == 0 ? notServing(service) : service);
    }
    return services;
  }

  private static SidecarRecord copy(
      SidecarRecord r,
      SidecarState state,
      List<DiscoveredService> services,
      String identity,
      String endpoint) {
    return new SidecarRecord(
        r.sidecarId(),
        r.namespace(),
        r.podName(),
        r.podUid(),
        r.podIp(),
        endpoint != null ? endpoint : r.dataPlaneEndpoint(),
        r.sidecarVersion(),
        state != null ? state : r.state(),
        services != null ? services : r.services(),
        r.heartbeatInterval(),
        r.registeredAt(),
        r.lastHeartbeat().plusSeconds(1),
        r.load(),
        identity != null ? identity : r.workloadIdentity());
  }

  private void assertSamePlan(
      RoutingPlan incremental, RoutingPlan fromNothing, Set<String> ids, String where) {
    assertThat(incremental.pipelines().keySet())
        .as(where)
        .isEqualTo(fromNothing.pipelines().keySet());
    fromNothing
        .pipelines()
        .forEach(
            (key, expected) -> {
              PipelinePlan actual = incremental.pipelines().get(key);
              assertThat(actual.pipeline()).as(where).isEqualTo(expected.pipeline());
              for (int i = 0; i < expected.stages().size(); i++) {
                StagePlan e = expected.stages().get(i);
                StagePlan a = actual.stages().get(i);
                assertThat(a.hosts()).as(where + " hosts of " + key).isEqualTo(e.hosts());
                assertThat(a.targets()).as(where + " targets of " + key).isEqualTo(e.targets());
              }
            });
    for (String id : ids) {
      assertThat(incremental.assignmentsFor(id))
          .as(where + ": assignments of " + id)
          .isEqualTo(fromNothing.assignmentsFor(id));
      assertThat(incremental.incompletePipelinesOf(id))
          .as(where + ": incomplete pipelines of " + id)
          .isEqualTo(fromNothing.incompletePipelinesOf(id));
      checkedAssignments++;
    }
  }

  /** The router skips the sidecars a plan does not name: it must name every one that changed. */
  private static void assertNamesEveryChange(
      RoutingPlan before, RoutingPlan after, Set<String> ids, String where) {
    if (after.changedSidecars().isEmpty()) {
      return; // any may have changed: the router looks at all
    }
    Set<String> named = after.changedSidecars().get();
    for (String id : ids) {
      if (!sameInstances(before.assignmentsFor(id), after.assignmentsFor(id))) {
        assertThat(named).as(where + ": " + id + " got new assignments").contains(id);
      }
    }
  }

  private static boolean sameInstances(List<PipelineAssignment> a, List<PipelineAssignment> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i)) {
        return false;
      }
    }
    return true;
  }
}

package io.conveyor.router.core;

import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.transform;
import static io.conveyor.router.testing.Fixtures.withDeadLetter;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.proto.delta.AssignmentDiff;
import io.conveyor.proto.delta.AssignmentPatch;
import io.conveyor.router.pipeline.DeliveryOptions;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.testing.Fixtures;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Incremental assignments give exactly the sets the router computes. Random sequences of changes
 * (sidecars joining with random services and identities, leaving, draining, failing health checks;
 * pipelines added, changed and removed) drive the real router core; a simulated sidecar per id
 * takes each new set as the delta from the set it holds — sometimes skipping versions, as the watch
 * stream's coalescing does — and must hold the router's set after every step.
 */
class AssignmentDeltaPropertyTest {

  private static final long SEED = 20_261_207L;
  private static final int RUNS = 60;
  private static final int STEPS = 80;

  private static final String[] IDS = {
    "sc-01", "sc-02", "sc-03", "sc-04", "sc-05", "sc-06", "sc-07", "sc-08", "sc-09", "sc-10"
  };

  private static final List<PipelineDefinition> PIPELINES =
      List.of(
          pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse"),
          withDeadLetter(
              pipeline("refunds-etl", "refunds", List.of("mask-pii", "enrich"), "warehouse"),
              "dlq"),
          pipeline("audit", "orders", List.of(), "archive"));

  private static final List<DiscoveredService> SERVICES =
      List.of(
          source("orders"),
          source("refunds"),
          transform("mask-pii"),
          transform("enrich"),
          sink("warehouse"),
          sink("archive"),
          sink("dlq"));

  private final Random random = new Random(SEED);
  private int deltasApplied;
  private int fullSets;

  @Test
  void applyingTheDeltasGivesEveryStepsFullSet() {
    for (int run = 0; run < RUNS; run++) {
      oneRun();
    }
    assertThat(deltasApplied)
        .as("the property is about deltas: most sets went as one")
        .isPositive();
    assertThat(deltasApplied).isGreaterThan(fullSets);
  }

  private void oneRun() {
    MutableClock clock = new MutableClock();
    RouterCore core = new RouterCore(clock, RouterSettings.defaults());
    Map<String, AssignmentSet> held = new HashMap<>();
    core.replacePipelines(randomPipelines());
    for (int step = 0; step < STEPS; step++) {
      change(core, clock);
      for (String id : IDS) {
        Optional<AssignmentSet> wanted = core.assignments(id);
        if (wanted.isEmpty()) {
          held.remove(id); // gone: a new registration starts from a full set
          continue;
        }
        if (held.containsKey(id) && random.nextInt(4) == 0) {
          continue; // coalesced: this version is skipped, the next delta spans two
        }
        AssignmentSet now = follow(held.get(id), wanted.get());
        assertThat(now).as("sidecar %s after step %d", id, step).isEqualTo(wanted.get());
        held.put(id, now);
      }
    }
    for (String id : IDS) {
      core.assignments(id).ifPresent(set -> assertThat(follow(held.get(id), set)).isEqualTo(set));
    }
  }

  /** What a sidecar holding {@code base} holds after the router sent it {@code next}. */
  private AssignmentSet follow(AssignmentSet base, AssignmentSet next) {
    if (base == null || base.getVersion() == 0 || base.getVersion() == next.getVersion()) {
      fullSets += base == null || base.getVersion() == 0 ? 1 : 0;
      return next;
    }
    Optional<AssignmentDelta> delta = AssignmentDiff.between(base, next);
    if (delta.isEmpty()) {
      fullSets++;
      return next;
    }
    assertThat(delta.get().getSerializedSize()).isLessThan(next.getSerializedSize());
    deltasApplied++;
    return AssignmentPatch.apply(base, delta.get());
  }

  private void change(RouterCore core, MutableClock clock) {
    String id = IDS[random.nextInt(IDS.length)];
    switch (random.nextInt(10)) {
      case 0, 1, 2, 3 -> core.register(registrationOf(id), identityOf(id));
      case 4 -> core.deregister(id);
      case 5 -> heartbeat(core, id, SidecarState.SIDECAR_STATE_DRAINING, randomServices());
      case 6 -> {
        List<DiscoveredService> services = randomServices();
        if (!services.isEmpty()) {
          services.set(0, Fixtures.notServing(services.get(0)));
        }
        heartbeat(core, id, SidecarState.SIDECAR_STATE_SERVING, services);
      }
      case 7 -> core.upsertPipeline(changed(PIPELINES.get(random.nextInt(PIPELINES.size()))));
      case 8 -> core.removePipeline(PIPELINES.get(random.nextInt(PIPELINES.size())).key());
      default -> core.replacePipelines(randomPipelines());
    }
    clock.advance(Duration.ofMillis(random.nextInt(500)));
  }

  private static void heartbeat(
      RouterCore core, String id, SidecarState state, List<DiscoveredService> services) {
    if (core.sidecar(id).isEmpty()) {
      return;
    }
    core.heartbeat(
        HeartbeatRequest.newBuilder()
            .setSidecarId(id)
            .setState(state)
            .addAllServices(services)
            .build());
  }

  private io.conveyor.etl.v1.RegisterSidecarRequest registrationOf(String id) {
    io.conveyor.etl.v1.RegisterSidecarRequest request =
        registration(id, randomServices().toArray(DiscoveredService[]::new));
    // Now and then the sidecar comes back at another address: its target changes in place.
    return random.nextInt(3) == 0
        ? request.toBuilder().setDataPlaneEndpoint(id + "-" + random.nextInt(3) + ":9191").build()
        : request;
  }

  /** Under mutual TLS or not: allowed callers come and go with identified sidecars. */
  private String identityOf(String id) {
    return random.nextBoolean() ? "spiffe://conveyor.test/ns/default/sa/" + id : "";
  }

  private List<DiscoveredService> randomServices() {
    List<DiscoveredService> services = new ArrayList<>();
    for (DiscoveredService service : SERVICES) {
      if (random.nextInt(3) == 0) {
        services.add(service);
      }
    }
    return services;
  }

  private List<PipelineDefinition> randomPipelines() {
    List<PipelineDefinition> chosen = new ArrayList<>();
    for (PipelineDefinition pipeline : PIPELINES) {
      if (random.nextInt(4) != 0) {
        chosen.add(pipeline);
      }
    }
    return chosen;
  }

  /** The pipeline with other delivery options: its header changes, so it is sent whole. */
  private PipelineDefinition changed(PipelineDefinition p) {
    DeliveryOptions d = p.delivery();
    return Fixtures.withDelivery(
        p,
        new DeliveryOptions(
            d.maxBatchSize(),
            1 + random.nextInt(5),
            d.retryBackoff(),
            d.batchTimeout(),
            d.deadLetterSink()));
  }

  @Test
  void aDeltaOutOfOrderIsRefusedAndAppliesOnceItsBaseIsHeld() {
    MutableClock clock = new MutableClock();
    RouterCore core = new RouterCore(clock, RouterSettings.defaults());
    core.replacePipelines(List.of(PIPELINES.get(0)));
    core.register(registration("sc-01", transform("mask-pii")), "");
    AssignmentSet first = core.assignments("sc-01").orElseThrow();
    core.register(registration("sc-02", sink("warehouse")), "");
    AssignmentSet second = core.assignments("sc-01").orElseThrow();
    core.register(registration("sc-03", sink("warehouse")), "");
    AssignmentSet third = core.assignments("sc-01").orElseThrow();
    AssignmentDelta toSecond = AssignmentDiff.between(first, second).orElseThrow();
    AssignmentDelta toThird = AssignmentDiff.between(second, third).orElseThrow();

    assertThatThrownBy(() -> AssignmentPatch.apply(first, toThird))
        .isInstanceOf(AssignmentPatch.MismatchException.class)
        .hasMessageContaining("does not apply to version " + first.getVersion());
    AssignmentSet caughtUp = AssignmentPatch.apply(AssignmentPatch.apply(first, toSecond), toThird);
    assertThat(caughtUp).isEqualTo(third);
  }

  @Test
  void aDeltaThatDoesNotFitItsBaseIsRefusedWhole() {
    SinkRemoval sinkRemoval = SinkRemoval.fromRouter();
    AssignmentSet base = sinkRemoval.base();
    AssignmentDelta removal = sinkRemoval.delta();
    // Same version, but a base that never had sc-02: the delta does not fit it.
    AssignmentSet other =
        base.toBuilder()
            .setPipelines(
                0,
                base.getPipelines(0).toBuilder()
                    .setStages(2, base.getPipelines(0).getStages(2).toBuilder().clearTargets()))
            .build();

    assertThatThrownBy(() -> AssignmentPatch.apply(other, removal))
        .isInstanceOf(AssignmentPatch.MismatchException.class)
        .hasMessageContaining("removes target sc-02");
  }

  @Test
  void aDeltaThatNamesAPipelineTwiceIsRefusedWhole() {
    SinkRemoval sinkRemoval = SinkRemoval.fromRouter();
    AssignmentSet base = sinkRemoval.base();
    AssignmentDelta removal = sinkRemoval.delta();
    PipelineAssignment pipeline = base.getPipelines(0);
    String name = pipeline.getPipeline();

    // Removed and upserted; upserted twice; upserted and changed stage by stage: each is
    // ambiguous (which wins depends on the order of application), so none is applied.
    assertThatThrownBy(
            () ->
                AssignmentPatch.apply(
                    base,
                    removal.toBuilder()
                        .addRemovedPipelines(name)
                        .addUpsertedPipelines(pipeline)
                        .build()))
        .isInstanceOf(AssignmentPatch.MismatchException.class)
        .hasMessageContaining("names pipeline '" + name + "' twice");
    assertThatThrownBy(
            () ->
                AssignmentPatch.apply(
                    base,
                    AssignmentDelta.newBuilder()
                        .setBaseVersion(base.getVersion())
                        .setVersion(base.getVersion() + 1)
                        .addUpsertedPipelines(pipeline)
                        .addUpsertedPipelines(pipeline)
                        .build()))
        .isInstanceOf(AssignmentPatch.MismatchException.class)
        .hasMessageContaining("names pipeline '" + name + "' twice");
    assertThatThrownBy(
            () ->
                AssignmentPatch.apply(
                    base, removal.toBuilder().addUpsertedPipelines(pipeline).build()))
        .isInstanceOf(AssignmentPatch.MismatchException.class)
        .hasMessageContaining("which it also removes or upserts");
  }

  /**
   * What the real router sends the transform's sidecar sc-01 when the sink's sidecar sc-02 leaves:
   * the set before ({@code base}) and the delta that removes sc-02 from its targets.
   */
  private record SinkRemoval(AssignmentSet base, AssignmentDelta delta) {

    static SinkRemoval fromRouter() {
      RouterCore core = new RouterCore(new MutableClock(), RouterSettings.defaults());
      core.replacePipelines(List.of(PIPELINES.get(0)));
      core.register(registration("sc-01", transform("mask-pii")), "");
      core.register(registration("sc-02", sink("warehouse")), "");
      AssignmentSet base = core.assignments("sc-01").orElseThrow();
      core.deregister("sc-02");
      return new SinkRemoval(
          base,
          AssignmentDiff.between(base, core.assignments("sc-01").orElseThrow()).orElseThrow());
    }
  }
}

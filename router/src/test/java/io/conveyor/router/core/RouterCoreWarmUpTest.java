package io.conveyor.router.core;

import static io.conveyor.router.testing.Fixtures.heartbeat;
import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.pipelineIn;
import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.stage;
import static io.conveyor.router.testing.Fixtures.targetIds;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.testing.Fixtures;
import io.conveyor.router.testing.RecordingSubscriber;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Defect 4 of issue 7: after a router restart the first sidecar to come back was handed a plan
 * built from a partial registry (its pipeline with no sink target) and failed records. During the
 * warm-up the router holds such a set back until the pipeline is complete or the window ends.
 */
class RouterCoreWarmUpTest {

  /** source "orders" → transform "mask-pii" → sink "warehouse". */
  private static final PipelineDefinition ORDERS =
      pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse");

  private static final Duration WARM_UP = Duration.ofSeconds(10);

  /** The source+transform pod and the sink pod of ORDERS. */
  private static final RegisterSidecarRequest SOURCE_POD =
      registration("sc-src", source("orders"), transform("mask-pii"));

  private static final RegisterSidecarRequest SINK_POD = registration("sc-sink", sink("warehouse"));

  private final MutableClock clock = new MutableClock();
  private RouterCore restarted;

  /** The plan the sidecars held from the router before the restart. */
  private AssignmentSet before;

  @BeforeEach
  void aRouterServedTheFullPlanThenRestarted() {
    RouterCore previous = new RouterCore(clock, RouterSettings.defaults().withWarmUp(WARM_UP));
    previous.replacePipelines(List.of(ORDERS));
    previous.servingStarted();
    previous.register(SOURCE_POD);
    previous.register(SINK_POD);
    before = previous.assignments("sc-src").orElseThrow();
    assertThat(targetIds(stage(orders(before), "warehouse"))).containsExactly("sc-sink");

    clock.advance(Duration.ofSeconds(30));
    restarted = new RouterCore(clock, RouterSettings.defaults().withWarmUp(WARM_UP));
    restarted.replacePipelines(List.of(ORDERS));
    restarted.servingStarted();
  }

  private static PipelineAssignment orders(AssignmentSet set) {
    return pipelineIn(set, "orders-etl")
        .orElseThrow(() -> new AssertionError("no orders-etl in " + set));
  }

  /** The sidecar's watch as it opens it after registering: it reports the version it applied. */
  private RecordingSubscriber watch(String sidecarId, long appliedVersion) {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    restarted.watch(sidecarId, appliedVersion, subscriber);
    return subscriber;
  }

  @Test
  void theFirstSidecarBackIsHandedNoSetWhileItsPipelineLacksASink() {
    RegisterSidecarResponse response = restarted.register(SOURCE_POD);

    assertThat(response.getAssignments())
        .as("version 0: the sidecar keeps the routes it had")
        .isEqualTo(AssignmentSet.getDefaultInstance());
    assertThat(restarted.heldBack("sc-src")).isTrue();
    RecordingSubscriber watch = watch("sc-src", 0);
    assertThat(watch.batches()).as("nothing incomplete on the watch").isEmpty();
    assertThat(restarted.heartbeat(heartbeat("sc-src", 0, source("orders"), transform("mask-pii"))))
        .satisfies(reply -> assertThat(reply.getCommandsList()).isEmpty());
  }

  @Test
  void whenTheSinkComesBackBothGetTheCompletePlanTheFirstOnItsWatch() {
    restarted.register(SOURCE_POD);
    RecordingSubscriber sourceWatch = watch("sc-src", 0);

    RegisterSidecarResponse sink = restarted.register(SINK_POD);

    assertThat(sink.getAssignments().getVersion()).isGreaterThan(before.getVersion());
    assertThat(targetIds(stage(orders(sink.getAssignments()), "warehouse")))
        .containsExactly("sc-sink");
    AssignmentSet pushed = sourceWatch.lastAssign();
    assertThat(sourceWatch.assigns()).hasSize(1);
    assertThat(targetIds(stage(orders(pushed), "mask-pii"))).containsExactly("sc-src");
    assertThat(targetIds(stage(orders(pushed), "warehouse"))).containsExactly("sc-sink");
    assertThat(pushed.getVersion()).isGreaterThan(before.getVersion());
    assertThat(restarted.heldBack("sc-src")).isFalse();
  }

  @Test
  void withoutAWatchTheReleasedSetRidesTheNextHeartbeat() {
    restarted.register(SOURCE_POD);
    restarted.register(SINK_POD);

    List<Command> commands =
        restarted
            .heartbeat(heartbeat("sc-src", 0, source("orders"), transform("mask-pii")))
            .getCommandsList();

    assertThat(Fixtures.assigns(commands))
        .singleElement()
        .satisfies(set -> assertThat(targetIds(stage(orders(set), "warehouse"))).isNotEmpty());
  }

  @Test
  void whenTheWindowEndsWithTheSinkAbsentTheIncompletePlanIsPublished() {
    restarted.register(SOURCE_POD);
    RecordingSubscriber watch = watch("sc-src", 0);

    clock.advance(WARM_UP.minusMillis(1));
    assertThat(restarted.endWarmUpIfDue()).isFalse();
    assertThat(watch.batches()).isEmpty();

    clock.advance(Duration.ofMillis(1));
    assertThat(restarted.endWarmUpIfDue()).isTrue();

    AssignmentSet published = watch.lastAssign();
    assertThat(targetIds(stage(orders(published), "mask-pii"))).containsExactly("sc-src");
    assertThat(targetIds(stage(orders(published), "warehouse"))).isEmpty();
    assertThat(published).isEqualTo(restarted.assignments("sc-src").orElseThrow());
    assertThat(restarted.endWarmUpIfDue()).as("the window ends once").isFalse();
  }

  @Test
  void aRegistrationAfterTheWindowGetsItsSetAtOnceEvenBeforeTheTimerRan() {
    clock.advance(WARM_UP);

    RegisterSidecarResponse response = restarted.register(SOURCE_POD);

    assertThat(targetIds(stage(orders(response.getAssignments()), "warehouse"))).isEmpty();
    assertThat(response.getAssignments().getVersion()).isPositive();
  }

  @Test
  void aSidecarWhosePipelinesAreCompleteGetsItsPlanAtOnce() {
    RegisterSidecarResponse all =
        restarted.register(
            registration("sc-all", source("orders"), transform("mask-pii"), sink("warehouse")));
    RegisterSidecarResponse idle = restarted.register(registration("sc-idle", sink("other")));

    assertThat(targetIds(stage(orders(all.getAssignments()), "warehouse")))
        .containsExactly("sc-all");
    assertThat(idle.getAssignments().getVersion()).as("takes part in nothing").isPositive();
    assertThat(idle.getAssignments().getPipelinesList()).isEmpty();
  }

  @Test
  void onlySetsNotYetHandedOutAreHeldALaterGapIsPushedAsBefore() {
    restarted.register(SINK_POD);
    restarted.register(SOURCE_POD);
    RecordingSubscriber watch = watch("sc-src", restarted.assignments("sc-src").get().getVersion());

    restarted.deregister("sc-sink"); // a real change, not the restart: the sidecar hears of it

    assertThat(targetIds(stage(orders(watch.lastAssign()), "warehouse"))).isEmpty();
  }

  @Test
  void withoutAWarmUpEverySetIsHandedOutAtOnce() {
    RouterCore plain = new RouterCore(clock, RouterSettings.defaults());
    plain.replacePipelines(List.of(ORDERS));
    plain.servingStarted();

    RegisterSidecarResponse response = plain.register(SOURCE_POD);

    assertThat(response.getAssignments().getVersion()).isPositive();
    assertThat(plain.endWarmUpIfDue()).isFalse();
  }
}

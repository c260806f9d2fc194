package io.conveyor.router.core;

import static io.conveyor.router.testing.Fixtures.heartbeat;
import static io.conveyor.router.testing.Fixtures.notServing;
import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.pipelineIn;
import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.stage;
import static io.conveyor.router.testing.Fixtures.targetIds;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.plan.AssignmentPlanner;
import io.conveyor.router.plan.RoutingPlan;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.router.registry.SidecarRegistry;
import io.conveyor.router.testing.Fixtures;
import io.conveyor.router.testing.RecordingSubscriber;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RouterCoreTest {

  /** source "orders" → transform "mask-pii" → sink "warehouse". */
  private static final PipelineDefinition ORDERS =
      pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse");

  private final MutableClock clock = new MutableClock();
  private RouterCore core;

  @BeforeEach
  void setUp() {
    core = new RouterCore(clock, RouterSettings.defaults());
    core.replacePipelines(List.of(ORDERS));
  }

  private long versionOf(String sidecarId) {
    return core.assignments(sidecarId).orElseThrow().getVersion();
  }

  private RecordingSubscriber watchUpToDate(String sidecarId) {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    core.watch(sidecarId, versionOf(sidecarId), subscriber);
    assertThat(subscriber.batches()).as("an up-to-date watch starts silent").isEmpty();
    return subscriber;
  }

  private static PipelineAssignment orders(AssignmentSet set) {
    return pipelineIn(set, "orders-etl")
        .orElseThrow(() -> new AssertionError("no orders-etl in " + set));
  }

  private static RecordingListener listening(RouterCore core) {
    RecordingListener listener = new RecordingListener();
    core.addListener(listener);
    return listener;
  }

  /** Remembers listener callbacks. */
  static final class RecordingListener implements RouterListener {
    final List<String> sidecarChanges = new ArrayList<>();
    final List<RoutingPlan> plans = new ArrayList<>();

    @Override
    public synchronized void sidecarChanged(String sidecarId) {
      sidecarChanges.add(sidecarId);
    }

    @Override
    public synchronized void planChanged(RoutingPlan plan) {
      plans.add(plan);
    }

    synchronized void clear() {
      sidecarChanges.clear();
      plans.clear();
    }
  }

  // ------------------------------------------------------------------ register

  @Test
  void registerReturnsTheSidecarsAssignments() {
    RegisterSidecarResponse response =
        core.register(registration("sc-a", source("orders"), transform("mask-pii")));

    PipelineAssignment a = orders(response.getAssignments());
    assertThat(stage(a, "orders").getLocal()).isTrue();
    assertThat(stage(a, "mask-pii").getLocal()).isTrue();
    assertThat(targetIds(stage(a, "mask-pii"))).containsExactly("sc-a");
    assertThat(stage(a, "warehouse").getLocal()).isFalse();
    assertThat(targetIds(stage(a, "warehouse"))).isEmpty();
    assertThat(response.getHeartbeatIntervalSeconds()).isEqualTo(5);
    assertThat(response.getRouterInstanceId()).isEqualTo(core.instanceId()).isNotBlank();
    assertThat(response.getAssignments()).isEqualTo(core.assignments("sc-a").orElseThrow());
  }

  @Test
  void aSidecarThatRunsNothingGetsAnEmptySetWithAVersion() {
    RegisterSidecarResponse response = core.register(registration("sc-idle", transform("other")));

    assertThat(response.getAssignments().getPipelinesList()).isEmpty();
    assertThat(response.getAssignments().getVersion()).isPositive();
  }

  @Test
  void registrationWithoutIdOrEndpointIsRejected() {
    RegisterSidecarRequest noId =
        registration("sc-a").toBuilder()
            .setIdentity(SidecarIdentity.newBuilder().setPodName("p"))
            .build();
    RegisterSidecarRequest noEndpoint =
        registration("sc-a").toBuilder().setDataPlaneEndpoint(" ").build();

    assertThatThrownBy(() -> core.register(noId))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sidecar_id");
    assertThatThrownBy(() -> core.register(noEndpoint))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("data_plane_endpoint");
    assertThat(core.sidecars()).isEmpty();
  }

  @Test
  void missingNamespaceAndStateMeanDefaultAndServing() {
    RegisterSidecarRequest bare =
        registration("sc-a", source("orders")).toBuilder()
            .setIdentity(SidecarIdentity.newBuilder().setSidecarId("sc-a"))
            .clearState()
            .build();

    core.register(bare);

    SidecarRecord record = core.sidecar("sc-a").orElseThrow();
    assertThat(record.namespace()).isEqualTo("default");
    assertThat(record.state()).isEqualTo(SidecarState.SIDECAR_STATE_SERVING);
    assertThat(core.assignments("sc-a").orElseThrow().getPipelinesCount()).isEqualTo(1);
  }

  @Test
  void heartbeatIntervalIsHeldWithinTheRoutersBounds() {
    assertThat(
            core.register(registration("a").toBuilder().setHeartbeatIntervalSeconds(0).build())
                .getHeartbeatIntervalSeconds())
        .isEqualTo(5);
    assertThat(
            core.register(registration("b").toBuilder().setHeartbeatIntervalSeconds(3600).build())
                .getHeartbeatIntervalSeconds())
        .isEqualTo(300);
    assertThat(
            core.register(registration("c").toBuilder().setHeartbeatIntervalSeconds(2).build())
                .getHeartbeatIntervalSeconds())
        .isEqualTo(2);
  }

  @Test
  void aFullRouterRefusesNewSidecars() {
    RouterCore small =
        new RouterCore(
            clock,
            new RouterSettings(
                1,
                3,
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                Duration.ofSeconds(5),
                10,
                Duration.ZERO));
    small.register(registration("a"));

    assertThatThrownBy(() -> small.register(registration("b")))
        .isInstanceOf(SidecarRegistry.RegistryFullException.class);
    assertThat(small.sidecars()).extracting(SidecarRecord::sidecarId).containsExactly("a");
  }

  // ------------------------------------------------------------------ watch pushes

  @Test
  void aSecondSidecarForTheNextStageIsPushedToTheFirstWithAllTargets() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    long before = versionOf("sc-a");

    core.register(registration("sc-b", transform("mask-pii")));

    assertThat(a.batches()).hasSize(1);
    AssignmentSet pushed = a.lastAssign();
    assertThat(pushed.getVersion()).isGreaterThan(before);
    assertThat(targetIds(stage(orders(pushed), "mask-pii"))).containsExactly("sc-b");

    core.register(registration("sc-c", transform("mask-pii")));

    assertThat(a.batches()).hasSize(2);
    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii")))
        .containsExactly("sc-b", "sc-c");
    assertThat(a.lastAssign()).isEqualTo(core.assignments("sc-a").orElseThrow());
  }

  @Test
  void aSidecarUnaffectedByAChangeGetsNoPushAndKeepsItsVersion() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    long version = versionOf("sc-a");

    core.register(registration("sc-other", transform("unrelated")));
    core.heartbeat(heartbeat("sc-a", version, source("orders")));

    assertThat(a.batches()).isEmpty();
    assertThat(versionOf("sc-a")).isEqualTo(version);
  }

  @Test
  void aWatchBehindTheCurrentVersionGetsTheCurrentSetAtOnce() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = new RecordingSubscriber();

    core.watch("sc-a", 0, a);

    assertThat(a.commands()).hasSize(1);
    assertThat(a.lastAssign()).isEqualTo(core.assignments("sc-a").orElseThrow());
  }

  @Test
  void watchingAnUnknownSidecarThrows() {
    assertThatThrownBy(() -> core.watch("ghost", 0, new RecordingSubscriber()))
        .isInstanceOf(UnknownSidecarException.class)
        .hasMessageContaining("ghost")
        .hasMessageContaining("register again");
  }

  @Test
  void aNewerWatchClosesTheOlderOneAndTakesItsPushes() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber first = watchUpToDate("sc-a");
    RecordingSubscriber second = watchUpToDate("sc-a");

    core.register(registration("sc-b", transform("mask-pii")));

    assertThat(first.closedReason()).contains("newer watch");
    assertThat(first.batches()).isEmpty();
    assertThat(second.assigns()).hasSize(1);
  }

  @Test
  void unsubscribingTheOldWatchDoesNotUnsubscribeTheNewOne() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber first = new RecordingSubscriber();
    Runnable unsubscribeFirst = core.watch("sc-a", versionOf("sc-a"), first);
    RecordingSubscriber second = watchUpToDate("sc-a");

    unsubscribeFirst.run(); // the old stream's cancel handler fires late
    core.register(registration("sc-b", transform("mask-pii")));

    assertThat(second.assigns()).hasSize(1);
  }

  // ------------------------------------------------------------------ heartbeat

  @Test
  void heartbeatWithAnOldVersionGetsTheCurrentSetAndWithTheCurrentOneNothing() {
    core.register(registration("sc-a", source("orders")));
    long current = versionOf("sc-a");

    HeartbeatResponse behind = core.heartbeat(heartbeat("sc-a", current - 1, source("orders")));
    HeartbeatResponse upToDate = core.heartbeat(heartbeat("sc-a", current, source("orders")));

    assertThat(behind.getCommandsList())
        .containsExactly(
            Command.newBuilder().setAssign(core.assignments("sc-a").orElseThrow()).build());
    assertThat(upToDate.getCommandsList()).isEmpty();
    assertThat(upToDate.getHeartbeatIntervalSeconds()).isEqualTo(5);
  }

  @Test
  void aHeartbeatLeavesTheSetToAWatchStreamThatTakesDeltas() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", transform("mask-pii")));
    RecordingSubscriber stream = new RecordingSubscriber(true);
    core.watch("sc-a", versionOf("sc-a"), stream);
    long held = versionOf("sc-a");
    core.register(registration("sc-c", transform("mask-pii"))); // pushed on sc-a's stream

    HeartbeatResponse behind = core.heartbeat(heartbeat("sc-a", held, source("orders")));
    HeartbeatResponse ownChange =
        core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), notServing(source("orders"))));

    assertThat(behind.getCommandsList()).isEmpty();
    assertThat(ownChange.getCommandsList()).isEmpty();
    assertThat(stream.commands()).anyMatch(Command::hasRevoke);
    assertThat(stream.assigns()).hasSize(2);
    assertThat(stream.lastAssign()).isEqualTo(core.assignments("sc-a").orElseThrow());

    // Without a stream that takes deltas, the reply carries the set, as before.
    core.watch("sc-a", versionOf("sc-a"), new RecordingSubscriber(false));
    HeartbeatResponse back = core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")));
    assertThat(Fixtures.assigns(back.getCommandsList()))
        .containsExactly(core.assignments("sc-a").orElseThrow());
  }

  @Test
  void heartbeatForAnUnknownSidecarThrows() {
    assertThatThrownBy(() -> core.heartbeat(heartbeat("ghost", 0)))
        .isInstanceOf(UnknownSidecarException.class)
        .hasMessageContaining("ghost");
  }

  @Test
  void aHeartbeatThatLosesAServiceReassignsAndAnswersWithTheNewSet() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", transform("mask-pii")));
    core.register(registration("sc-c", transform("mask-pii")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    long bVersion = versionOf("sc-b");

    HeartbeatResponse response =
        core.heartbeat(heartbeat("sc-b", bVersion, notServing(transform("mask-pii"))));

    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).containsExactly("sc-c");
    assertThat(Fixtures.assigns(response.getCommandsList()))
        .singleElement()
        .satisfies(set -> assertThat(set.getPipelinesList()).isEmpty());
  }

  @Test
  void aSidecarReportingDrainingStopsBeingATargetButKeepsItsStages() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", transform("mask-pii")));
    RecordingSubscriber a = watchUpToDate("sc-a");

    HeartbeatRequest draining =
        heartbeat("sc-b", versionOf("sc-b"), transform("mask-pii")).toBuilder()
            .setState(SidecarState.SIDECAR_STATE_DRAINING)
            .build();
    HeartbeatResponse response = core.heartbeat(draining);

    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).isEmpty();
    PipelineAssignment seenByB = orders(Fixtures.assigns(response.getCommandsList()).get(0));
    assertThat(stage(seenByB, "mask-pii").getLocal()).isTrue();
  }

  @Test
  void heartbeatWithoutStateKeepsTheKnownState() {
    core.register(registration("sc-a", source("orders")));

    core.heartbeat(
        heartbeat("sc-a", versionOf("sc-a"), source("orders")).toBuilder().clearState().build());

    assertThat(core.sidecar("sc-a").orElseThrow().state())
        .isEqualTo(SidecarState.SIDECAR_STATE_SERVING);
  }

  // ------------------------------------------------------------------ expiry

  @Test
  void aSidecarSilentForThreeIntervalsExpiresAndTheOthersAreReassigned() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", transform("mask-pii")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    RecordingSubscriber b = watchUpToDate("sc-b");

    clock.advance(Duration.ofSeconds(10));
    core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")));
    clock.advance(Duration.ofSeconds(5)); // sc-b: exactly 3 × 5 s since its registration
    assertThat(core.expire()).isEmpty();

    clock.advance(Duration.ofMillis(1));
    assertThat(core.expire()).containsExactly("sc-b");

    assertThat(core.sidecar("sc-b")).isEmpty();
    assertThat(core.assignments("sc-b")).isEmpty();
    assertThat(b.closedReason()).contains("expired");
    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).isEmpty();
    assertThatThrownBy(() -> core.heartbeat(heartbeat("sc-b", 0)))
        .isInstanceOf(UnknownSidecarException.class);
    assertThat(core.expire()).isEmpty();
  }

  @Test
  void expiryUsesEachSidecarsOwnInterval() {
    core.register(
        registration("slow", source("orders")).toBuilder().setHeartbeatIntervalSeconds(60).build());
    core.register(
        registration("fast", sink("warehouse")).toBuilder().setHeartbeatIntervalSeconds(2).build());

    clock.advance(Duration.ofSeconds(7));

    assertThat(core.expire()).containsExactly("fast");
    assertThat(core.sidecars()).extracting(SidecarRecord::sidecarId).containsExactly("slow");
  }

  @Test
  void anExpiredSidecarThatRegistersAgainGetsAFreshNewerVersion() {
    core.register(registration("sc-a", source("orders")));
    long first = versionOf("sc-a");
    clock.advance(Duration.ofMinutes(1));
    core.expire();

    RegisterSidecarResponse again = core.register(registration("sc-a", source("orders")));

    assertThat(again.getAssignments().getVersion()).isGreaterThan(first);
    assertThat(orders(again.getAssignments())).isNotNull();
  }

  // ------------------------------------------------------------------ re-registration,
  // deregistration

  @Test
  void aNewSidecarIdInTheSamePodReplacesTheOldRecord() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("old-b", transform("mask-pii")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    RecordingSubscriber oldB = watchUpToDate("old-b");

    RegisterSidecarRequest restarted =
        registration("new-b", transform("mask-pii")).toBuilder()
            .setIdentity(
                registration("old-b").getIdentity().toBuilder().setSidecarId("new-b")) // same pod
            .build();
    core.register(restarted);

    assertThat(core.sidecars())
        .extracting(SidecarRecord::sidecarId)
        .containsExactly("sc-a", "new-b");
    assertThat(oldB.closedReason()).contains("new-b");
    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).containsExactly("new-b");
    assertThatThrownBy(() -> core.heartbeat(heartbeat("old-b", 0)))
        .isInstanceOf(UnknownSidecarException.class);
  }

  @Test
  void reRegisteringTheSameIdKeepsOneRecordAndUpdatesIt() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    long version = versionOf("sc-a");

    RegisterSidecarResponse again = core.register(registration("sc-a", source("orders")));

    assertThat(core.sidecars()).hasSize(1);
    assertThat(again.getAssignments().getVersion()).isEqualTo(version);
    assertThat(a.closedReason()).isNull();
  }

  @Test
  void deregisterRemovesTheSidecarReassignsAndIsIdempotent() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", transform("mask-pii")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    RecordingSubscriber b = watchUpToDate("sc-b");

    assertThat(core.deregister("sc-b")).isTrue();
    assertThat(core.deregister("sc-b")).isFalse();

    assertThat(b.closedReason()).isEqualTo("deregistered");
    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).isEmpty();
    assertThat(a.batches()).hasSize(1);
  }

  // ------------------------------------------------------------------ pipelines

  @Test
  void removingAPipelineRevokesItWithDrainThenAssignsTheRest() {
    core.upsertPipeline(pipeline("refunds", "orders", List.of(), "ledger"));
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");

    core.removePipeline("default/orders-etl");

    assertThat(a.batches()).hasSize(1);
    List<Command> commands = a.batches().get(0);
    assertThat(commands).hasSize(2);
    assertThat(commands.get(0).getRevoke().getPipeline()).isEqualTo("orders-etl");
    assertThat(commands.get(0).getRevoke().getDrain()).isTrue();
    assertThat(commands.get(1).getAssign().getPipelinesList())
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("refunds");
    assertThat(commands.get(0).getRevoke().getAssignmentVersion())
        .as("the revoke names the set that drops the pipeline")
        .isEqualTo(commands.get(1).getAssign().getVersion());
  }

  @Test
  void aSidecarWhoseHeartbeatTakesItOutOfAPipelineIsToldToRevokeItBeforeTheNewSet() {
    core.upsertPipeline(pipeline("refunds", "payments", List.of(), "ledger"));
    core.register(registration("sc-a", source("orders"), sink("ledger")));
    watchUpToDate("sc-a");

    // Its pod no longer serves the ledger sink: "refunds" no longer runs here.
    HeartbeatResponse response =
        core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")));

    List<Command> commands = response.getCommandsList();
    assertThat(commands).hasSize(2);
    assertThat(commands.get(0).getRevoke().getPipeline()).isEqualTo("refunds");
    assertThat(commands.get(0).getRevoke().getDrain()).isTrue();
    assertThat(commands.get(1).getAssign().getPipelinesList())
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("orders-etl");
  }

  @Test
  void removingAnUnknownPipelineChangesNothing() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    RecordingListener listener = listening(core);

    core.removePipeline("default/nope");

    assertThat(a.batches()).isEmpty();
    assertThat(listener.plans).isEmpty();
  }

  @Test
  void addingAPipelinePushesItToTheSidecarsThatRunItsStages() {
    core.register(registration("sc-a", source("orders"), sink("ledger")));
    RecordingSubscriber a = watchUpToDate("sc-a");

    core.upsertPipeline(pipeline("refunds", "orders", List.of(), "ledger"));

    assertThat(a.lastAssign().getPipelinesList())
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("orders-etl", "refunds");
    assertThat(a.commands()).noneMatch(Command::hasRevoke);
  }

  @Test
  void changingASpecWithoutANewGenerationStillBumpsTheGeneration() {
    core.register(registration("sc-a", source("orders")));
    long generation = orders(core.assignments("sc-a").orElseThrow()).getGeneration();

    core.replacePipelines(
        List.of(pipeline("orders-etl", "orders", List.of("enrich"), "warehouse")));

    assertThat(orders(core.assignments("sc-a").orElseThrow()).getGeneration())
        .isGreaterThan(generation);
  }

  @Test
  void reloadingTheSamePipelinesPushesNothing() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    long version = versionOf("sc-a");

    core.replacePipelines(List.of(ORDERS));
    core.upsertPipeline(ORDERS);

    assertThat(a.batches()).isEmpty();
    assertThat(versionOf("sc-a")).isEqualTo(version);
  }

  @Test
  void tooManyPipelinesAreRefusedAndTheOldOnesKept() {
    RouterCore small =
        new RouterCore(
            clock,
            new RouterSettings(
                10,
                3,
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                Duration.ofSeconds(5),
                1,
                Duration.ZERO));
    small.upsertPipeline(ORDERS);

    assertThatThrownBy(
            () -> small.replacePipelines(List.of(ORDERS, pipeline("b", "x", List.of(), "y"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at most 1");
    assertThatThrownBy(() -> small.upsertPipeline(pipeline("b", "x", List.of(), "y")))
        .isInstanceOf(IllegalStateException.class);
    assertThat(small.pipelines()).containsExactly(ORDERS);
  }

  // ------------------------------------------------------------------ drain

  @Test
  void drainGoesOutOnTheWatchStreamAtOnce() {
    core.register(registration("sc-a", source("orders")));
    RecordingSubscriber a = watchUpToDate("sc-a");

    assertThat(core.requestDrain("sc-a", Duration.ofSeconds(30), "node maintenance")).isTrue();

    assertThat(a.commands())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getDrain().getDeadlineSeconds()).isEqualTo(30);
              assertThat(c.getDrain().getReason()).isEqualTo("node maintenance");
            });
    assertThat(
            core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")))
                .getCommandsList())
        .as("delivered once, not repeated")
        .isEmpty();
  }

  @Test
  void withoutAWatchTheDrainRidesTheNextHeartbeatOnce() {
    core.register(registration("sc-a", source("orders")));

    core.requestDrain("sc-a", Duration.ofSeconds(10), "scale down");
    HeartbeatResponse first =
        core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")));
    HeartbeatResponse second =
        core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders")));

    assertThat(first.getCommandsList())
        .singleElement()
        .satisfies(c -> assertThat(c.hasDrain()).isTrue());
    assertThat(second.getCommandsList()).isEmpty();
  }

  @Test
  void aDrainRequestedAfterTheWatchEndedIsHeldForTheNextWatch() {
    core.register(registration("sc-a", source("orders")));
    Runnable unsubscribe = core.watch("sc-a", versionOf("sc-a"), new RecordingSubscriber());
    unsubscribe.run();

    core.requestDrain("sc-a", Duration.ofSeconds(10), "scale down");
    RecordingSubscriber next = watchUpToDateAllowingDrain("sc-a");

    assertThat(next.commands()).singleElement().satisfies(c -> assertThat(c.hasDrain()).isTrue());
  }

  private RecordingSubscriber watchUpToDateAllowingDrain(String sidecarId) {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    core.watch(sidecarId, versionOf(sidecarId), subscriber);
    return subscriber;
  }

  @Test
  void drainOfAnUnknownSidecarIsRefused() {
    assertThat(core.requestDrain("ghost", Duration.ofSeconds(1), "x")).isFalse();
  }

  // ------------------------------------------------------------------ listeners

  @Test
  void listenersHearOfRegistrationsAndPlanChanges() {
    RecordingListener listener = listening(core);

    core.register(registration("sc-a", source("orders")));

    assertThat(listener.sidecarChanges).containsExactly("sc-a");
    assertThat(listener.plans).hasSize(1);
    assertThat(listener.plans.get(0).pipeline("default/orders-etl").orElseThrow().involves("sc-a"))
        .isTrue();
  }

  @Test
  void heartbeatsThatChangeOnlyLoadAndTimeDoNotNotify() {
    core.register(registration("sc-a", source("orders")));
    RecordingListener listener = listening(core);

    for (int i = 1; i <= 3; i++) {
      clock.advance(Duration.ofSeconds(5));
      core.heartbeat(
          heartbeat("sc-a", versionOf("sc-a"), source("orders")).toBuilder()
              .setLoad(
                  SidecarLoad.newBuilder().setInFlightBatches(i).setHeapUsedBytes(i * 1_000_000L))
              .build());
    }

    assertThat(listener.sidecarChanges).isEmpty();
    assertThat(listener.plans).isEmpty();
    assertThat(core.sidecar("sc-a").orElseThrow().lastHeartbeat()).isEqualTo(clock.instant());
  }

  @Test
  void aHeartbeatWithNewServicesNotifies() {
    core.register(registration("sc-a", source("orders")));
    RecordingListener listener = listening(core);

    core.heartbeat(heartbeat("sc-a", versionOf("sc-a"), source("orders"), sink("warehouse")));

    assertThat(listener.sidecarChanges).containsExactly("sc-a");
    assertThat(listener.plans).hasSize(1);
  }

  @Test
  void listenersHearOfExpiryAndDeregistration() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-b", sink("warehouse")));
    RecordingListener listener = listening(core);

    core.deregister("sc-a");
    clock.advance(Duration.ofMinutes(1));
    core.expire();

    assertThat(listener.sidecarChanges).containsExactly("sc-a", "sc-b");
    assertThat(listener.plans).isNotEmpty();
    assertThat(
            listener
                .plans
                .get(listener.plans.size() - 1)
                .pipeline("default/orders-etl")
                .orElseThrow()
                .unservedStages())
        .hasSize(3);
  }

  @Test
  void aFailingSubscriberOrListenerDoesNotFailTheCallerNorStarveTheOthers() {
    core.register(registration("sc-a", source("orders")));
    core.register(registration("sc-c", sink("warehouse")));
    // The sink's stream breaks; the source, which hands batches to the new transform, must still
    // hear of it.
    core.watch(
        "sc-c",
        versionOf("sc-c"),
        new AssignmentSubscriber() {
          @Override
          public void send(List<Command> commands) {
            throw new IllegalStateException("stream broke");
          }

          @Override
          public void close(String reason) {}
        });
    RecordingSubscriber a = watchUpToDate("sc-a");
    core.addListener(
        new RouterListener() {
          @Override
          public void sidecarChanged(String sidecarId) {
            throw new IllegalStateException("status update failed");
          }
        });
    RecordingListener after = listening(core);

    RegisterSidecarResponse b = core.register(registration("sc-b", transform("mask-pii")));

    assertThat(orders(b.getAssignments())).isNotNull();
    assertThat(targetIds(stage(orders(a.lastAssign()), "mask-pii"))).containsExactly("sc-b");
    assertThat(after.sidecarChanges).containsExactly("sc-b");
    assertThat(targetIds(stage(orders(core.assignments("sc-a").orElseThrow()), "mask-pii")))
        .containsExactly("sc-b");
  }

  @Test
  void theLastParticipantLeavingStillNotifiesAPlanChange() {
    core.register(registration("sc-a", source("orders"), transform("mask-pii"), sink("warehouse")));
    RecordingListener listener = listening(core);

    core.deregister("sc-a");

    assertThat(listener.plans).hasSize(1);
    assertThat(listener.plans.get(0).pipeline("default/orders-etl").orElseThrow().unservedStages())
        .hasSize(3);
  }

  @Test
  void aSidecarThatTookPartInNothingLeavingIsNoPlanChange() {
    core.register(registration("sc-idle", transform("unrelated")));
    RecordingListener listener = listening(core);

    core.deregister("sc-idle");

    assertThat(listener.sidecarChanges).containsExactly("sc-idle");
    assertThat(listener.plans).isEmpty();
  }

  // ------------------------------------------------------------------ versions

  @Test
  void versionsStrictlyIncreaseAcrossEveryKindOfChange() {
    core.register(registration("sc-a", source("orders"), sink("ledger")));
    RecordingSubscriber a = watchUpToDate("sc-a");
    List<Long> versions = new ArrayList<>();
    versions.add(versionOf("sc-a"));

    core.register(registration("sc-b", transform("mask-pii")));
    core.register(registration("sc-c", sink("warehouse")));
    core.upsertPipeline(pipeline("refunds", "orders", List.of(), "ledger"));
    core.heartbeat(heartbeat("sc-b", versionOf("sc-b"), notServing(transform("mask-pii"))));
    core.deregister("sc-c");
    core.removePipeline("default/refunds");
    clock.advance(Duration.ofMinutes(1));
    core.heartbeat(heartbeat("sc-a", 0, source("orders"), sink("ledger")));
    core.expire(); // sc-b
    a.assigns().forEach(set -> versions.add(set.getVersion()));

    // sc-a's own set changes four times (sc-b arrives, refunds added, sc-b stops serving, refunds
    // removed); sc-c's coming and going does not touch what a source is told, so costs it nothing.
    assertThat(versions).hasSize(5).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void aRestartedRouterStartsAboveThePreviousRoutersVersions() {
    core.register(registration("sc-a", source("orders")));
    for (int i = 0; i < 5; i++) {
      core.register(registration("sc-b" + i, transform("mask-pii")));
    }
    long lastSeen = versionOf("sc-a");

    clock.advance(Duration.ofSeconds(1));
    RouterCore restarted = new RouterCore(clock, RouterSettings.defaults());
    restarted.replacePipelines(List.of(ORDERS));

    assertThat(
            restarted
                .register(registration("sc-a", source("orders")))
                .getAssignments()
                .getVersion())
        .isGreaterThan(lastSeen);
  }

  @Test
  void afterAnySequenceOfChangesEverySidecarHoldsWhatPlanningFromScratchGives() {
    Random random = new Random(11);
    List<DiscoveredService> offers =
        List.of(
            source("orders"),
            transform("mask-pii"),
            notServing(transform("mask-pii")),
            sink("warehouse"),
            sink("ledger"));
    for (int step = 0; step < 400; step++) {
      String id = "sc-" + random.nextInt(6);
      DiscoveredService offer = offers.get(random.nextInt(offers.size()));
      switch (random.nextInt(5)) {
        case 0, 1 -> core.register(registration(id, offer));
        case 2 -> {
          if (core.sidecar(id).isPresent()) {
            core.heartbeat(heartbeat(id, versionOf(id), offer));
          }
        }
        case 3 -> core.deregister(id);
        default ->
            core.upsertPipeline(
                random.nextBoolean()
                    ? ORDERS
                    : pipeline("orders-etl", "orders", List.of("mask-pii"), "ledger"));
      }
      RoutingPlan fresh = AssignmentPlanner.plan(core.pipelines(), core.sidecars());
      for (SidecarRecord sidecar : core.sidecars()) {
        assertThat(core.assignments(sidecar.sidecarId()).orElseThrow().getPipelinesList())
            .as("step %d, %s", step, sidecar.sidecarId())
            .isEqualTo(fresh.assignmentsFor(sidecar.sidecarId()));
      }
    }
  }
}

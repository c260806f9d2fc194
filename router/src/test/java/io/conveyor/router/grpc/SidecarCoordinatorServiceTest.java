package io.conveyor.router.grpc;

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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.testing.Fixtures;
import io.conveyor.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SidecarCoordinator over an in-process transport, with a real client stub. */
class SidecarCoordinatorServiceTest {

  private static final PipelineDefinition ORDERS =
      pipeline("orders-etl", "orders", List.of("mask-pii"), "warehouse");

  private final MutableClock clock = new MutableClock();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private RouterCore core;
  private RouterServer server;
  private ManagedChannel channel;
  private SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub blocking;
  private SidecarCoordinatorGrpc.SidecarCoordinatorStub async;

  @BeforeEach
  void start() {
    core = new RouterCore(clock, RouterSettings.defaults());
    core.replacePipelines(List.of(ORDERS));
    String name = InProcessServerBuilder.generateName();
    server =
        RouterServer.start(InProcessServerBuilder.forName(name).directExecutor(), core, meters);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking =
        SidecarCoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    async = SidecarCoordinatorGrpc.newStub(channel);
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  /** The client end of a WatchAssignments stream. */
  static final class WatchRecorder
      implements ClientResponseObserver<WatchAssignmentsRequest, AssignmentUpdate> {
    final List<AssignmentUpdate> updates = new CopyOnWriteArrayList<>();
    volatile Throwable error;
    volatile boolean completed;
    private volatile ClientCallStreamObserver<WatchAssignmentsRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchAssignmentsRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(AssignmentUpdate value) {
      updates.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {
      completed = true;
    }

    void cancel() {
      call.cancel("sidecar shutting down", null);
    }

    List<AssignmentSet> assigns() {
      return Fixtures.assigns(updates.stream().flatMap(u -> u.getCommandsList().stream()).toList());
    }

    Status.Code errorCode() {
      return error == null ? null : Status.fromThrowable(error).getCode();
    }
  }

  private WatchRecorder watch(String sidecarId, long knownVersion) {
    WatchRecorder recorder = new WatchRecorder();
    async.watchAssignments(
        WatchAssignmentsRequest.newBuilder()
            .setSidecarId(sidecarId)
            .setKnownVersion(knownVersion)
            .build(),
        recorder);
    return recorder;
  }

  private static PipelineAssignment orders(AssignmentSet set) {
    return pipelineIn(set, "orders-etl")
        .orElseThrow(() -> new AssertionError("no orders-etl in " + set));
  }

  private static Status.Code codeOf(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void aSidecarsWholeLifeOverTheWire() {
    RegisterSidecarResponse registered =
        blocking.registerSidecar(registration("sc-a", source("orders")));
    long version = registered.getAssignments().getVersion();
    assertThat(stage(orders(registered.getAssignments()), "orders").getLocal()).isTrue();
    assertThat(registered.getHeartbeatIntervalSeconds()).isEqualTo(5);
    assertThat(registered.getRouterInstanceId()).isEqualTo(core.instanceId());

    WatchRecorder watch = watch("sc-a", version);
    assertThat(blocking.heartbeat(heartbeat("sc-a", version, source("orders"))).getCommandsList())
        .isEmpty();

    blocking.registerSidecar(registration("sc-b", transform("mask-pii")));
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.assigns().size() == 1);
    AssignmentSet pushed = watch.assigns().get(0);
    assertThat(pushed.getVersion()).isGreaterThan(version);
    assertThat(targetIds(stage(orders(pushed), "mask-pii"))).containsExactly("sc-b");
    assertThat(stage(orders(pushed), "mask-pii").getTargets(0).getEndpoint())
        .isEqualTo(Fixtures.endpointOf("sc-b"));

    HeartbeatResponse missedIt = blocking.heartbeat(heartbeat("sc-a", version, source("orders")));
    assertThat(missedIt.getCommandsList())
        .containsExactly(Command.newBuilder().setAssign(pushed).build());

    blocking.deregisterSidecar(
        DeregisterSidecarRequest.newBuilder().setSidecarId("sc-b").setReason("SIGTERM").build());
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.assigns().size() == 2);
    assertThat(targetIds(stage(orders(watch.assigns().get(1)), "mask-pii"))).isEmpty();
    assertThat(codeOf(() -> blocking.heartbeat(heartbeat("sc-b", 0))))
        .isEqualTo(Status.Code.NOT_FOUND);

    blocking.deregisterSidecar(DeregisterSidecarRequest.newBuilder().setSidecarId("sc-a").build());
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.error != null);
    assertThat(watch.errorCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(core.sidecars()).isEmpty();
  }

  @Test
  void unknownSidecarsGetNotFoundTellingThemToRegister() {
    assertThatThrownBy(() -> blocking.heartbeat(heartbeat("ghost", 3)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription())
                  .contains("ghost")
                  .contains("register again");
            });

    WatchRecorder watch = watch("ghost", 0);
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.error != null);
    assertThat(watch.errorCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(watch.updates).isEmpty();
    assertThat(meters.counter("conveyor_router_unknown_sidecar_calls_total").count()).isEqualTo(2);
  }

  @Test
  void aRegistrationWithoutIdOrEndpointIsInvalid() {
    RegisterSidecarRequest noId =
        registration("sc-a").toBuilder()
            .setIdentity(SidecarIdentity.newBuilder().setPodName("p"))
            .build();
    RegisterSidecarRequest noEndpoint =
        registration("sc-a").toBuilder().clearDataPlaneEndpoint().build();

    assertThatThrownBy(() -> blocking.registerSidecar(noId))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("sidecar_id");
            });
    assertThatThrownBy(() -> blocking.registerSidecar(noEndpoint))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("data_plane_endpoint");
            });
    assertThat(core.sidecars()).isEmpty();
  }

  @Test
  void aFullRouterAnswersResourceExhausted() throws InterruptedException {
    stop();
    core =
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
    String name = InProcessServerBuilder.generateName();
    server =
        RouterServer.start(InProcessServerBuilder.forName(name).directExecutor(), core, meters);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking = SidecarCoordinatorGrpc.newBlockingStub(channel);
    blocking.registerSidecar(registration("sc-a"));

    assertThat(codeOf(() -> blocking.registerSidecar(registration("sc-b"))))
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void deregisteringAnUnknownSidecarSucceeds() {
    blocking.deregisterSidecar(DeregisterSidecarRequest.newBuilder().setSidecarId("ghost").build());

    assertThat(meters.counter("conveyor_router_deregistrations_total").count()).isZero();
  }

  @Test
  void aWatchBehindTheCurrentVersionStartsWithTheCurrentSet() {
    RegisterSidecarResponse registered =
        blocking.registerSidecar(registration("sc-a", source("orders")));

    WatchRecorder watch = watch("sc-a", 0);

    await().atMost(Duration.ofSeconds(5)).until(() -> !watch.updates.isEmpty());
    assertThat(watch.assigns()).containsExactly(registered.getAssignments());
  }

  @Test
  void aNewerWatchOfTheSameSidecarEndsTheOlderOne() {
    long version =
        blocking
            .registerSidecar(registration("sc-a", source("orders")))
            .getAssignments()
            .getVersion();
    WatchRecorder older = watch("sc-a", version);
    WatchRecorder newer = watch("sc-a", version);

    await().atMost(Duration.ofSeconds(5)).until(() -> older.error != null);
    assertThat(Status.fromThrowable(older.error).getDescription()).contains("newer watch");

    blocking.registerSidecar(registration("sc-b", transform("mask-pii")));
    await().atMost(Duration.ofSeconds(5)).until(() -> newer.assigns().size() == 1);
    assertThat(older.updates).isEmpty();
    assertThat(newer.error).isNull();
  }

  @Test
  void aDrainRequestedWhileTheWatchIsOpenArrivesOnIt() {
    long version =
        blocking
            .registerSidecar(registration("sc-a", source("orders")))
            .getAssignments()
            .getVersion();
    WatchRecorder watch = watch("sc-a", version);

    core.requestDrain("sc-a", Duration.ofSeconds(20), "node drain");

    await().atMost(Duration.ofSeconds(5)).until(() -> !watch.updates.isEmpty());
    assertThat(watch.updates.get(0).getCommands(0).getDrain().getDeadlineSeconds()).isEqualTo(20);
  }

  @Test
  void aDrainRequestedAfterTheClientCancelledItsWatchRidesTheNextHeartbeat() {
    long version =
        blocking
            .registerSidecar(registration("sc-a", source("orders")))
            .getAssignments()
            .getVersion();
    WatchRecorder watch = watch("sc-a", version);
    watch.cancel();
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.error != null);

    core.requestDrain("sc-a", Duration.ofSeconds(20), "node drain");

    HeartbeatResponse response = blocking.heartbeat(heartbeat("sc-a", version, source("orders")));
    assertThat(response.getCommandsList())
        .singleElement()
        .satisfies(c -> assertThat(c.hasDrain()).isTrue());
  }

  @Test
  void theRouterServesHealthAsServing() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);

    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(
            health
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService("conveyor.etl.v1.SidecarCoordinator")
                        .build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void theRouterServesReflectionListingTheCoordinator() {
    List<ServerReflectionResponse> responses = new CopyOnWriteArrayList<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    responses.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();

    await().atMost(Duration.ofSeconds(5)).until(() -> !responses.isEmpty());
    assertThat(responses.get(0).getListServicesResponse().getServiceList())
        .extracting(ServiceResponse::getName)
        .contains("conveyor.etl.v1.SidecarCoordinator", "grpc.health.v1.Health");
  }

  @Test
  void metricsCountRegistrationsAndHeartbeatsAndGaugeTheRegistry() {
    blocking.registerSidecar(registration("sc-a", source("orders")));
    blocking.registerSidecar(registration("sc-b", sink("warehouse")));
    blocking.heartbeat(heartbeat("sc-a", 0, source("orders")));

    assertThat(meters.counter("conveyor_router_registrations_total").count()).isEqualTo(2);
    assertThat(meters.counter("conveyor_router_heartbeats_total").count()).isEqualTo(1);
    assertThat(meters.get("conveyor_router_sidecars").gauge().value()).isEqualTo(2);
    assertThat(meters.get("conveyor_router_pipelines").gauge().value()).isEqualTo(1);
  }

  @Test
  void duringTheWarmUpTheFirstSidecarBackGetsNoSetUntilItsPipelineIsCompleteOrTheWindowEnds()
      throws InterruptedException {
    stop();
    core = new RouterCore(clock, RouterSettings.defaults().withWarmUp(Duration.ofSeconds(10)));
    core.replacePipelines(List.of(ORDERS));
    String name = InProcessServerBuilder.generateName();
    server =
        RouterServer.start(InProcessServerBuilder.forName(name).directExecutor(), core, meters);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking =
        SidecarCoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    async = SidecarCoordinatorGrpc.newStub(channel);

    // A restarted router: the source+transform pod comes back before the sink pod.
    RegisterSidecarResponse first =
        blocking.registerSidecar(registration("sc-a", source("orders"), transform("mask-pii")));
    assertThat(first.getAssignments().getVersion()).isZero();
    assertThat(first.getAssignments().getPipelinesList()).isEmpty();
    WatchRecorder watch = watch("sc-a", 0);
    assertThat(
            blocking
                .heartbeat(heartbeat("sc-a", 0, source("orders"), transform("mask-pii")))
                .getCommandsList())
        .isEmpty();
    assertThat(watch.updates).isEmpty();

    RegisterSidecarResponse sink =
        blocking.registerSidecar(registration("sc-c", sink("warehouse")));
    assertThat(targetIds(stage(orders(sink.getAssignments()), "warehouse")))
        .containsExactly("sc-c");
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.assigns().size() == 1);
    assertThat(targetIds(stage(orders(watch.assigns().get(0)), "warehouse")))
        .containsExactly("sc-c");

    // A second pipeline whose sink never comes back: published by the server's timer at the end.
    core.upsertPipeline(pipeline("refunds", "refunds-src", List.of(), "ledger"));
    RegisterSidecarResponse lonely =
        blocking.registerSidecar(registration("sc-r", source("refunds-src")));
    assertThat(lonely.getAssignments().getVersion()).isZero();
    WatchRecorder lonelyWatch = watch("sc-r", 0);
    clock.advance(Duration.ofSeconds(10));
    await().atMost(Duration.ofSeconds(10)).until(() -> lonelyWatch.assigns().size() == 1);
    assertThat(
            targetIds(
                stage(pipelineIn(lonelyWatch.assigns().get(0), "refunds").orElseThrow(), "ledger")))
        .isEmpty();
  }

  @Test
  void afterARouterRestartTheSidecarIsToldToRegisterAgainAndGetsItsAssignmentsBack()
      throws InterruptedException {
    RegisterSidecarRequest request = registration("sc-a", source("orders"));
    long before = blocking.registerSidecar(request).getAssignments().getVersion();
    blocking.registerSidecar(registration("sc-gone", sink("warehouse")));
    stop();

    clock.advance(Duration.ofSeconds(2));
    core = new RouterCore(clock, RouterSettings.defaults());
    core.replacePipelines(List.of(ORDERS));
    String name = InProcessServerBuilder.generateName();
    server =
        RouterServer.start(InProcessServerBuilder.forName(name).directExecutor(), core, meters);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    blocking = SidecarCoordinatorGrpc.newBlockingStub(channel);

    assertThat(codeOf(() -> blocking.heartbeat(heartbeat("sc-a", before, source("orders")))))
        .isEqualTo(Status.Code.NOT_FOUND);
    RegisterSidecarResponse again = blocking.registerSidecar(request);
    assertThat(again.getAssignments().getVersion()).isGreaterThan(before);
    assertThat(again.getRouterInstanceId()).isEqualTo(core.instanceId());
    assertThat(meters.get("conveyor_router_sidecars").gauge().value())
        .as("the gauge follows the new router, not the stopped one")
        .isEqualTo(1);
  }
}

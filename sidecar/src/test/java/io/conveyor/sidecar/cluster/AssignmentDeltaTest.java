package io.conveyor.sidecar.cluster;

import static io.conveyor.sidecar.cluster.ClusterSidecar.sink;
import static io.conveyor.sidecar.cluster.ClusterSidecar.source;
import static io.conveyor.sidecar.cluster.ClusterSidecar.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.pipeline.DeliveryOptions;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Incremental assignments between the real router and the real cluster client, in-process: after
 * the first set the router sends deltas, and the sidecar ends with exactly the set the router
 * computed. A delta lost on the way makes the next one miss its base: the sidecar asks for a full
 * set by watching again, and still ends equal.
 */
class AssignmentDeltaTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int NO_HEARTBEAT_SOON = 60;

  /**
   * Long enough for a test's few calls to fall inside one paced interval, even on a busy machine.
   */
  private static final Duration PACED = Duration.ofSeconds(3);

  private static final PipelineDefinition ORDERS_ETL =
      new PipelineDefinition(
          "default",
          "orders-etl",
          1,
          "orders",
          List.of("mask-pii"),
          "warehouse",
          DeliveryOptions.defaults());

  private final String name = InProcessServerBuilder.generateName();
  private final RouterCore core = new RouterCore(Clock.systemUTC(), RouterSettings.defaults());
  private final Lossy lossy = new Lossy(core);
  private RouterServer server;
  private ClusterSidecar sidecar;

  /**
   * Drops the watch updates that carry a delta, as many as the test asks; counts what passes. Asked
   * to, answers heartbeats as a router before this one did (an older leader during an upgrade):
   * with sc-a's whole set in every reply, though its watch stream takes deltas.
   */
  static final class Lossy implements ServerInterceptor {
    private final RouterCore core;
    final AtomicBoolean oldRouterHeartbeats = new AtomicBoolean();
    final AtomicInteger deltasToDrop = new AtomicInteger();
    final AtomicInteger deltasSent = new AtomicInteger();
    final AtomicInteger fullSetsSent = new AtomicInteger();

    Lossy(RouterCore core) {
      this.core = core;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      return next.startCall(
          new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            @SuppressWarnings("unchecked")
            public void sendMessage(R message) {
              if (message instanceof HeartbeatResponse reply && oldRouterHeartbeats.get()) {
                Optional<AssignmentSet> set = core.assignments("sc-a");
                if (set.isPresent()) {
                  message =
                      (R)
                          reply.toBuilder()
                              .addCommands(Command.newBuilder().setAssign(set.get()))
                              .build();
                }
              }
              if (message instanceof AssignmentUpdate update) {
                boolean delta = update.getCommandsList().stream().anyMatch(Command::hasDelta);
                if (delta && deltasToDrop.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  return; // lost on the way
                }
                if (delta) {
                  deltasSent.incrementAndGet();
                }
                if (update.getCommandsList().stream().anyMatch(Command::hasAssign)) {
                  fullSetsSent.incrementAndGet();
                }
              }
              super.sendMessage(message);
            }
          },
          headers);
    }
  }

  private void start() {
    start(Duration.ZERO);
  }

  private void start(Duration minAssignInterval) {
    core.replacePipelines(List.of(ORDERS_ETL));
    server =
        RouterServer.start(
            InProcessServerBuilder.forName(name).directExecutor().intercept(lossy),
            core,
            new SimpleMeterRegistry(),
            minAssignInterval);
    sidecar =
        new ClusterSidecar(
                "sc-a",
                InProcessChannelBuilder.forName(name).directExecutor().build(),
                NO_HEARTBEAT_SOON,
                transform("mask-pii"))
            .start();
    await().atMost(WAIT).until(sidecar.client::isRegistered);
  }

  @AfterEach
  void close() {
    if (sidecar != null) {
      sidecar.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** Another sidecar joins (or rejoins) the fleet: every participant's targets change. */
  private void join(String id, DiscoveredService service) {
    SidecarCoordinatorGrpc.newBlockingStub(
            InProcessChannelBuilder.forName(name).directExecutor().build())
        .registerSidecar(
            RegisterSidecarRequest.newBuilder()
                .setIdentity(
                    SidecarIdentity.newBuilder()
                        .setSidecarId(id)
                        .setPodName("pod-" + id)
                        .setNamespace("default"))
                .setDataPlaneEndpoint(id + ".pods.test:9191")
                .addServices(service)
                .setState(SidecarState.SIDECAR_STATE_SERVING)
                .build());
  }

  private void awaitSameSetAsTheRouter() {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(sidecar.routes.assignments())
                    .isEqualTo(core.assignments("sc-a").orElseThrow()));
  }

  @Test
  void changesArriveAsDeltasAndTheSidecarEndsWithTheRoutersSet() {
    start();
    join("sc-b", transform("mask-pii"));
    join("sc-c", sink("warehouse"));
    awaitSameSetAsTheRouter();
    join("sc-d", sink("warehouse"));
    join("sc-e", source("orders"));
    core.deregister("sc-b");

    awaitSameSetAsTheRouter();
    assertThat(lossy.deltasSent.get()).as("changes went as deltas").isGreaterThanOrEqualTo(3);
    assertThat(sidecar.client.appliedVersion())
        .isEqualTo(core.assignments("sc-a").orElseThrow().getVersion());
    assertThat(sidecar.meters.counter("conveyor_sidecar_assignment_resyncs").count()).isZero();
    assertThat(sidecar.routes.table().pipeline("orders-etl")).isPresent();
  }

  @Test
  void aLostDeltaMakesTheSidecarAskForTheFullSetAndItEndsEqual() {
    start();
    join("sc-c", sink("warehouse"));
    awaitSameSetAsTheRouter();
    int fullSetsBefore = lossy.fullSetsSent.get();
    long before = sidecar.client.appliedVersion();

    lossy.deltasToDrop.set(1);
    join("sc-d", sink("warehouse")); // its delta is lost
    await().atMost(WAIT).until(() -> lossy.deltasToDrop.get() == 0);
    assertThat(sidecar.client.appliedVersion()).as("nothing applied meanwhile").isEqualTo(before);
    join("sc-e", sink("warehouse")); // based on the lost one: cannot apply

    awaitSameSetAsTheRouter();
    assertThat(sidecar.meters.counter("conveyor_sidecar_assignment_resyncs").count())
        .isEqualTo(1.0);
    assertThat(lossy.fullSetsSent.get()).as("the resync's full set").isEqualTo(fullSetsBefore + 1);
    assertThat(sidecar.routes.table().pipeline("orders-etl").orElseThrow().stages().get(2))
        .satisfies(stage -> assertThat(stage.remotes()).hasSize(3));
  }

  @Test
  void aHeartbeatsFullSetBetweenTwoStreamedSetsDoesNotCostAResync() {
    // The stream paces its sets, so in a registration storm a heartbeat's reply (a full set)
    // regularly arrives while the stream holds a newer set back, and that set then goes as a delta
    // from the stream's last set, older than the heartbeat's: the sidecar must apply it on top of
    // what the stream gave it, not ask for a third full set. This router no longer puts sets in the
    // replies of a sidecar whose stream takes deltas; an older leader during an upgrade still does.
    lossy.oldRouterHeartbeats.set(true);
    start(PACED);
    join("sc-c", sink("warehouse")); // the stream's first change: at once, a delta
    awaitSameSetAsTheRouter();
    int fullSetsBefore = lossy.fullSetsSent.get();
    long streamed = sidecar.client.appliedVersion();

    join("sc-d", sink("warehouse")); // held back by the pacing
    sidecar.client.heartbeatNow(); // its reply carries that set whole
    await().atMost(WAIT).until(() -> sidecar.client.appliedVersion() > streamed);
    join("sc-e", sink("warehouse")); // coalesced: a delta from the stream's last set

    awaitSameSetAsTheRouter();
    assertThat(lossy.deltasSent.get()).as("the paced set went as a delta").isEqualTo(2);
    assertThat(sidecar.meters.counter("conveyor_sidecar_assignment_resyncs").count()).isZero();
    assertThat(lossy.fullSetsSent.get()).as("no full set on the stream").isEqualTo(fullSetsBefore);
  }
}

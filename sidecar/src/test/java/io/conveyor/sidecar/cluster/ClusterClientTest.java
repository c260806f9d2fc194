package io.conveyor.sidecar.cluster;

import static io.conveyor.sidecar.cluster.ClusterSidecar.sink;
import static io.conveyor.sidecar.cluster.ClusterSidecar.source;
import static io.conveyor.sidecar.cluster.ClusterSidecar.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.pipeline.DeliveryOptions;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.sidecar.discovery.FreePorts;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.RemoteTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster client against the real router over a real loopback port: registration while the
 * router is away, heartbeats, the watch stream, router restarts and expiry, drain, deregistration.
 */
class ClusterClientTest {

  private static final PipelineDefinition ORDERS_ETL =
      new PipelineDefinition(
          "default",
          "orders-etl",
          1,
          "orders",
          List.of("mask-pii"),
          "warehouse",
          DeliveryOptions.defaults());

  private static final PipelineDefinition PAYMENTS_ETL =
      new PipelineDefinition(
          "default",
          "payments-etl",
          1,
          "payments",
          List.of("mask-pii"),
          "warehouse",
          DeliveryOptions.defaults());

  /** Long enough that nothing in a test can arrive by a periodic heartbeat: only the watch. */
  private static final int NO_HEARTBEAT_SOON = 60;

  /** Longer than a heartbeat period of 1 s: time for a stray heartbeat or registration to show. */
  private static final Duration QUIET = Duration.ofMillis(1_500);

  private final int routerPort = freePort();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private TestRouter router(PipelineDefinition... pipelines) {
    TestRouter router = TestRouter.start(routerPort, List.of(pipelines));
    toClose.add(router);
    return router;
  }

  private ClusterSidecar sidecar(String id, int heartbeatSeconds, DiscoveredService... services) {
    ClusterSidecar sidecar = new ClusterSidecar(id, routerPort, heartbeatSeconds, services);
    toClose.add(sidecar);
    return sidecar.start();
  }

  private static void awaitRegistered(TestRouter router, ClusterSidecar sidecar) {
    await().atMost(Duration.ofSeconds(5)).until(() -> router.core.sidecar(sidecar.id).isPresent());
    await().atMost(Duration.ofSeconds(5)).until(sidecar.client::isRegistered);
  }

  @Test
  void registersOnceTheRouterAppearsAfterRetryingWithBackoff() {
    long started = System.nanoTime();
    ClusterSidecar sidecar = sidecar("sc-a", 1, transform("mask-pii"));

    await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.registrations("error") >= 4);
    Duration fourFailures = Duration.ofNanos(System.nanoTime() - started);
    assertThat(sidecar.client.isRegistered()).isFalse();
    assertThat(sidecar.registeredWith).isEmpty();
    // 200 ms doubling, jitter at most halving: the fourth failure cannot come before 700 ms.
    assertThat(fourFailures)
        .as("retries back off, not a tight loop")
        .isGreaterThanOrEqualTo(Duration.ofMillis(700));

    TestRouter router = router(ORDERS_ETL);
    long routerUp = System.nanoTime();
    int failedBeforeRouterUp = (int) sidecar.registrations("error");

    await().atMost(Duration.ofSeconds(15)).until(() -> router.core.sidecar("sc-a").isPresent());
    Duration tookAfterRouterUp = Duration.ofNanos(System.nanoTime() - routerUp);
    // Found by this client's own next retry, not after the channel's longer reconnect backoff: no
    // attempt failed once the router was up, but for one that was already connecting as it started.
    int failed = (int) sidecar.registrations("error");
    assertThat(failed)
        .as("registration attempts that failed after the router was up")
        .isLessThanOrEqualTo(failedBeforeRouterUp + 1);
    // So within the delay that followed the last failure: 200 ms doubling per failure (1.6 s
    // after four), plus a margin for the call. How many failed first depends on how long the
    // router took to start, which is longer on a loaded machine: the bound follows that count.
    Duration lastDelayAtMost = Duration.ofMillis(Math.min(10_000, 200L << Math.max(0, failed - 1)));
    assertThat(tookAfterRouterUp).isLessThan(lastDelayAtMost.plusMillis(1_400));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sidecar.registeredWith.contains(router.core.instanceId()));
    SidecarRecord record = router.core.sidecar("sc-a").orElseThrow();
    assertThat(record.podName()).isEqualTo("pod-sc-a");
    assertThat(record.namespace()).isEqualTo("default");
    assertThat(record.dataPlaneEndpoint()).isEqualTo(sidecar.config.dataPlaneEndpoint());
    assertThat(record.services())
        .extracting(s -> s.getDescription().getName())
        .containsExactly("mask-pii");
    assertThat(sidecar.client.isRegistered()).isTrue();
    assertThat(sidecar.lifecycle.state()).isEqualTo(SidecarState.SIDECAR_STATE_SERVING);
    // The registration reply carried the assignments.
    assertThat(sidecar.routes.table().pipeline("orders-etl")).isPresent();
  }

  @Test
  void heartbeatsReachTheRouterWithStateAndLoad() {
    TestRouter router = router();
    ClusterSidecar sidecar = sidecar("sc-a", 1, transform("mask-pii"));
    awaitRegistered(router, sidecar);
    SidecarRecord registered = router.core.sidecar("sc-a").orElseThrow();

    await()
        .atMost(Duration.ofSeconds(4))
        .until(
            () ->
                router
                    .core
                    .sidecar("sc-a")
                    .orElseThrow()
                    .lastHeartbeat()
                    .isAfter(registered.lastHeartbeat()));
    SidecarRecord first = router.core.sidecar("sc-a").orElseThrow();
    await()
        .atMost(Duration.ofSeconds(4))
        .until(
            () ->
                router
                    .core
                    .sidecar("sc-a")
                    .orElseThrow()
                    .lastHeartbeat()
                    .isAfter(first.lastHeartbeat()));

    SidecarRecord record = router.core.sidecar("sc-a").orElseThrow();
    assertThat(record.load().getInFlightBatches()).isEqualTo(3);
    assertThat(record.load().getInFlightBytes()).isEqualTo(4096);
    assertThat(record.state()).isEqualTo(SidecarState.SIDECAR_STATE_SERVING);
    // The sidecar counts a heartbeat when its reply arrives, after the router recorded it.
    await().atMost(Duration.ofSeconds(4)).until(() -> sidecar.heartbeats("ok") >= 2);
  }

  @Test
  void aPipelineAddedAtTheRouterArrivesAtOnceOnTheWatchStream() {
    TestRouter router = router();
    ClusterSidecar a = sidecar("sc-a", NO_HEARTBEAT_SOON, source("orders"), transform("mask-pii"));
    ClusterSidecar b = sidecar("sc-b", NO_HEARTBEAT_SOON, sink("warehouse"));
    awaitRegistered(router, a);
    awaitRegistered(router, b);
    assertThat(a.routes.table().pipelineNames()).isEmpty();

    router.core.upsertPipeline(ORDERS_ETL);

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> a.routes.table().pipeline("orders-etl").isPresent());
    PipelineRoute route = a.routes.table().pipeline("orders-etl").orElseThrow();
    assertThat(route.stage(0).isLocal()).isTrue();
    assertThat(route.stage(1).isLocal()).isTrue();
    assertThat(route.stage(2).isLocal()).isFalse();
    assertThat(route.stage(2).remotes())
        .containsExactly(new RemoteTarget("sc-b", b.config.dataPlaneEndpoint(), "pod-sc-b"));
    assertThat(a.client.appliedVersion())
        .isEqualTo(router.core.assignments("sc-a").orElseThrow().getVersion());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> b.routes.table().pipeline("orders-etl").isPresent());
    assertThat(b.routes.table().pipeline("orders-etl").orElseThrow().stage(2).isLocal()).isTrue();
  }

  @Test
  void aRestartedRouterIsRegisteredWithAgainAndItsAssignmentsApplied() {
    TestRouter first = router(ORDERS_ETL);
    ClusterSidecar sidecar = sidecar("sc-a", 1, source("orders"), transform("mask-pii"));
    awaitRegistered(first, sidecar);
    assertThat(sidecar.routes.table().pipeline("orders-etl")).isPresent();

    first.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> sidecar.heartbeats("error") >= 1);
    assertThat(sidecar.routes.table().pipeline("orders-etl"))
        .as("routing continues with the last assignments while the router is away")
        .isPresent();
    TestRouter second = router(ORDERS_ETL);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> sidecar.registeredWith.contains(second.core.instanceId()));
    SidecarRecord record = second.core.sidecar("sc-a").orElseThrow();
    assertThat(record.services())
        .extracting(s -> s.getDescription().getName())
        .containsExactly("orders", "mask-pii");
    await()
        .atMost(Duration.ofSeconds(3))
        .until(
            () ->
                sidecar.client.appliedVersion()
                    == second.core.assignments("sc-a").orElseThrow().getVersion());
    assertThat(sidecar.routes.table().pipeline("orders-etl")).isPresent();
    assertThat(sidecar.registeredWith)
        .containsExactly(first.core.instanceId(), second.core.instanceId());
  }

  @Test
  void aSidecarTheRouterExpiredRegistersAgain() {
    TestRouter router = router(ORDERS_ETL);
    ClusterSidecar sidecar = sidecar("sc-a", NO_HEARTBEAT_SOON, source("orders"));
    awaitRegistered(router, sidecar);

    // Three heartbeat periods of silence, as far as the router can tell: its expiry pass drops us.
    router.clock.shift(Duration.ofSeconds(3L * NO_HEARTBEAT_SOON + 1));

    await().atMost(Duration.ofSeconds(5)).until(() -> sidecar.registeredWith.size() == 2);
    assertThat(router.core.sidecar("sc-a")).isPresent();
    assertThat(sidecar.client.isRegistered()).isTrue();
  }

  @Test
  void aDrainRequestedAtTheRouterReachesTheSidecar() {
    TestRouter router = router();
    ClusterSidecar sidecar = sidecar("sc-a", NO_HEARTBEAT_SOON, transform("mask-pii"));
    awaitRegistered(router, sidecar);

    assertThat(router.core.requestDrain("sc-a", Duration.ofSeconds(7), "node maintenance"))
        .isTrue();

    await().atMost(Duration.ofSeconds(5)).until(() -> !sidecar.drains.isEmpty());
    assertThat(sidecar.drains)
        .containsExactly(new ClusterSidecar.Drain(Duration.ofSeconds(7), "node maintenance"));
  }

  @Test
  void aPipelineRemovedAtTheRouterIsRevokedBeforeTheSetWithoutIt() {
    TestRouter router = router(ORDERS_ETL);
    ClusterSidecar sidecar =
        sidecar(
            "sc-a",
            NO_HEARTBEAT_SOON,
            source("orders"),
            transform("mask-pii"),
            sink("warehouse"),
            source("payments"));
    awaitRegistered(router, sidecar);
    assertThat(sidecar.routes.table().pipeline("orders-etl")).isPresent();
    // A change that can only arrive on the watch stream: the router now pushes to this sidecar.
    router.core.upsertPipeline(PAYMENTS_ETL);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sidecar.routes.table().pipeline("payments-etl").isPresent());

    router.core.removePipeline(ORDERS_ETL.key());

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sidecar.routes.table().pipeline("orders-etl").isEmpty());
    assertThat(sidecar.revokes)
        .containsExactly(
            new ClusterSidecar.Revoke(
                "orders-etl", true, "pipeline removed or no longer runs on this pod", true));
    assertThat(sidecar.routes.table().pipeline("payments-etl")).isPresent();
  }

  @Test
  void aDeregisteredSidecarIsGoneFromTheRouterAndStaysGone() {
    TestRouter router = router(ORDERS_ETL);
    ClusterSidecar sidecar = sidecar("sc-a", 1, source("orders"), transform("mask-pii"));
    awaitRegistered(router, sidecar);

    sidecar.client.deregister("pod terminating", Duration.ofSeconds(5));
    sidecar.client.close(); // what the sidecar's shutdown does next

    assertThat(router.core.sidecar("sc-a")).isEmpty();
    assertThat(sidecar.client.isRegistered()).isFalse();
    await()
        .during(QUIET)
        .atMost(Duration.ofSeconds(3))
        .until(() -> router.core.sidecar("sc-a").isEmpty());
    assertThat(sidecar.registeredWith).hasSize(1);
  }

  @Test
  void afterDeregisteringTheClientNeitherHeartbeatsNorRegistersAgain() {
    TestRouter router = router(ORDERS_ETL);
    ClusterSidecar sidecar = sidecar("sc-a", 1, source("orders"));
    awaitRegistered(router, sidecar);

    sidecar.client.deregister("pod terminating", Duration.ofSeconds(5));

    await()
        .during(QUIET)
        .atMost(Duration.ofSeconds(3))
        .until(() -> router.core.sidecar("sc-a").isEmpty());
    assertThat(sidecar.registeredWith).hasSize(1);
  }

  @Test
  void deregisteringBeforeEverRegisteringSendsNothingAndStopsTheRetries() {
    ClusterSidecar sidecar = sidecar("sc-a", 1, source("orders"));
    await().atMost(Duration.ofSeconds(5)).until(() -> sidecar.registrations("error") >= 1);

    sidecar.client.deregister("pod terminating", Duration.ofSeconds(1));
    TestRouter router = router(ORDERS_ETL);

    await()
        .during(QUIET)
        .atMost(Duration.ofSeconds(3))
        .until(() -> router.core.sidecar("sc-a").isEmpty());
  }

  @Test
  void changedServicesReachTheRouterWithAnImmediateHeartbeat() {
    TestRouter router = router(ORDERS_ETL);
    ClusterSidecar sidecar = sidecar("sc-a", NO_HEARTBEAT_SOON, source("orders"));
    awaitRegistered(router, sidecar);
    assertThat(sidecar.routes.table().pipeline("orders-etl").orElseThrow().stage(1).remotes())
        .isEmpty();

    sidecar.discovered(source("orders"), transform("mask-pii"), sink("warehouse"));
    sidecar.client.heartbeatNow();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> router.core.sidecar("sc-a").orElseThrow().services().size() == 3);
    assertThat(router.core.sidecar("sc-a").orElseThrow().services())
        .extracting(s -> s.getDescription().getName())
        .containsExactly("orders", "mask-pii", "warehouse");
    // The router re-planned: every stage now runs in this pod, and says so.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                sidecar.routes.assignments().getPipelinesList().stream()
                    .flatMap(p -> p.getStagesList().stream())
                    .allMatch(s -> s.getLocal()));
  }

  /**
   * Below the ephemeral range: the port stays closed for a while (the router starts late, or
   * restarts) while the client keeps connecting to it, and must be free to bind when the router
   * comes.
   */
  private static int freePort() {
    return FreePorts.anyFreePort();
  }
}

package io.conveyor.router.grpc;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.identity.tls.CallerIdentity;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.identity.CertificateIssuingService;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link RouterCore} over gRPC ({@code SidecarCoordinator}, health, reflection), opens its
 * warm-up window when it starts serving and, once a second, ends that window when it is due and
 * expires silent sidecars. The standalone router runs one for its lifetime; the operator runs one
 * while it holds the leader lease.
 */
public final class RouterServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RouterServer.class);

  /**
   * Threads for the extra services' calls: CertificateService admits this many enrolments at once
   * and answers the rest RESOURCE_EXHAUSTED, so more threads would only wait.
   */
  static final int EXTRA_SERVICE_THREADS = CertificateIssuingService.DEFAULT_MAX_CONCURRENT;

  /**
   * Least time between two assignment sets on one watch stream: a registration storm costs each
   * sidecar at most one set a second, while an isolated change is still pushed at once. A set that
   * admits a new caller waits a tenth of it (see {@link WatchStream}).
   */
  public static final Duration DEFAULT_MIN_ASSIGN_INTERVAL = Duration.ofSeconds(1);

  private final Server server;
  private final HealthStatusManager health;
  private final ScheduledExecutorService timer;
  private final ExecutorService pushes;

  /** The call pools this server made and stops after itself (none unless asked for). */
  private final List<ExecutorService> callPools;

  private final MeterRegistry meters;
  private final List<Meter> gauges;

  private RouterServer(
      Server server,
      HealthStatusManager health,
      ScheduledExecutorService timer,
      ExecutorService pushes,
      List<ExecutorService> callPools,
      MeterRegistry meters,
      List<Meter> gauges) {
    this.server = server;
    this.health = health;
    this.timer = timer;
    this.pushes = pushes;
    this.callPools = callPools;
    this.meters = meters;
    this.gauges = gauges;
  }

  /**
   * Starts serving {@code core} on a server built by {@code builder} (a Netty builder on a port in
   * production, an in-process one in tests).
   */
  public static RouterServer start(
      ServerBuilder<?> builder, RouterCore core, MeterRegistry meters) {
    return start(builder, core, meters, DEFAULT_MIN_ASSIGN_INTERVAL);
  }

  /**
   * As {@link #start(ServerBuilder, RouterCore, MeterRegistry)}, with the least time between two
   * assignment sets on one watch stream (see {@link WatchStream}); zero sends every set at once.
   */
  public static RouterServer start(
      ServerBuilder<?> builder, RouterCore core, MeterRegistry meters, Duration minAssignInterval) {
    return start(builder, core, meters, minAssignInterval, List.of());
  }

  /**
   * As {@link #start(ServerBuilder, RouterCore, MeterRegistry, Duration)}, also serving {@code
   * extraServices} on the same port (the standalone router's CertificateService), each reported
   * SERVING in health while the server runs.
   */
  public static RouterServer start(
      ServerBuilder<?> builder,
      RouterCore core,
      MeterRegistry meters,
      Duration minAssignInterval,
      List<BindableService> extraServices) {
    return start(builder, core, meters, minAssignInterval, extraServices, CoordinatorAccess.open());
  }

  /**
   * As {@link #start(ServerBuilder, RouterCore, MeterRegistry, Duration, List)}, with {@code
   * access} deciding who may make which SidecarCoordinator call. The caller's identity is the one
   * its client certificate proved, when {@code builder} serves TLS that asks for one.
   */
  public static RouterServer start(
      ServerBuilder<?> builder,
      RouterCore core,
      MeterRegistry meters,
      Duration minAssignInterval,
      List<BindableService> extraServices,
      CoordinatorAccess access) {
    return start(builder, core, meters, minAssignInterval, extraServices, access, false);
  }

  /**
   * As {@link #start(ServerBuilder, RouterCore, MeterRegistry, Duration, List, CoordinatorAccess)},
   * with the calls on the router's own bounded pools (see {@link #callExecutor()}) instead of the
   * builder's executor: what the standalone router and the operator serve with. The other overloads
   * leave the builder's executor alone, so that a test's {@code directExecutor()} keeps its calls
   * in the order they were made.
   */
  public static RouterServer startWithCallPools(
      ServerBuilder<?> builder,
      RouterCore core,
      MeterRegistry meters,
      Duration minAssignInterval,
      List<BindableService> extraServices,
      CoordinatorAccess access) {
    return start(builder, core, meters, minAssignInterval, extraServices, access, true);
  }

  private static RouterServer start(
      ServerBuilder<?> builder,
      RouterCore core,
      MeterRegistry meters,
      Duration minAssignInterval,
      List<BindableService> extraServices,
      CoordinatorAccess access,
      boolean callPools) {
    ScheduledExecutorService timer = DaemonThreads.scheduler("router-timer");
    // At most one delayed push per watch stream is queued at a time: bounded by the sidecars.
    ExecutorService pushes = Executors.newFixedThreadPool(2, DaemonThreads.numbered("router-push"));
    List<ExecutorService> pools = new ArrayList<>();
    if (callPools) {
      ExecutorService calls = callExecutor();
      builder.executor(calls);
      pools.add(calls);
    }
    HealthStatusManager health = GrpcServers.addStandardServices(builder);
    RouterMetrics metrics = new RouterMetrics(meters);
    builder.addService(
        ServerInterceptors.intercept(
            new SidecarCoordinatorService(core, metrics, timer, pushes, minAssignInterval, access),
            new CallerIdentity()));
    List<String> extraNames = new ArrayList<>();
    for (BindableService service : extraServices) {
      ServerServiceDefinition definition = service.bindService();
      builder.addService(definition);
      extraNames.add(definition.getServiceDescriptor().getName());
    }
    // The extra services (the operator's CertificateService asks the API server for a TokenReview
    // and the pod, up to seconds each) run on a pool of their own, so that they never take the
    // threads the coordinator's calls need: a few blocked enrolments must not hold up heartbeats.
    if (callPools) {
      ExecutorService extraCalls =
          Executors.newFixedThreadPool(
              EXTRA_SERVICE_THREADS, DaemonThreads.numbered("router-extra-call"));
      builder.callExecutor(
          new ServerCallExecutorSupplier() {
            @Override
            public <ReqT, RespT> Executor getExecutor(
                ServerCall<ReqT, RespT> call, Metadata headers) {
              return extraNames.contains(call.getMethodDescriptor().getServiceName())
                  ? extraCalls
                  : null;
            }
          });
      pools.add(extraCalls);
    }
    Server server;
    try {
      // Opened before the first call can arrive: every sidecar coming back falls in the window.
      core.servingStarted();
      server = builder.build().start();
    } catch (IOException e) {
      timer.shutdownNow();
      pushes.shutdownNow();
      pools.forEach(ExecutorService::shutdownNow);
      throw new UncheckedIOException("cannot start the router's gRPC server", e);
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus("conveyor.etl.v1.SidecarCoordinator", ServingStatus.SERVING);
    extraNames.forEach(name -> health.setStatus(name, ServingStatus.SERVING));
    // Removed again on close: a later server on the same registry (the operator regaining the
    // lease) would otherwise find these and keep reporting the stopped core.
    List<Meter> gauges = RouterMetrics.gauges(meters, core);
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            core.endWarmUpIfDue();
            List<String> expired = core.expire();
            if (!expired.isEmpty()) {
              metrics.expirations.increment(expired.size());
              log.warn("expired sidecars that missed their heartbeats: {}", expired);
            }
          } catch (RuntimeException e) {
            log.error("expiry pass failed; will retry", e);
          }
        },
        1,
        1,
        TimeUnit.SECONDS);
    return new RouterServer(server, health, timer, pushes, List.copyOf(pools), meters, gauges);
  }

  /**
   * The pool the coordinator's calls run on, replacing gRPC's default (an unbounded cached pool):
   * as many threads as cores, at least two. Bounded, because a storm of N calls waiting for the
   * core's lock (heartbeats, watches; registrations no longer do) would otherwise hold up to N
   * threads. And cheaper: the cached pool hands every call to an idle thread through a rendezvous,
   * a park and an unpark per call, which in a profile of {@code ./conveyor bench router}'s
   * heartbeat rounds cost more of the router's CPU than the heartbeats' own work; with this
   * work-stealing FIFO pool the router's CPU per heartbeat fell by about a quarter.
   */
  private static ExecutorService callExecutor() {
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    return new ForkJoinPool(
        threads,
        pool -> {
          ForkJoinWorkerThread thread =
              ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          thread.setName("router-call-" + thread.getPoolIndex());
          return thread;
        },
        null,
        true);
  }

  /** The port the server listens on (-1 for in-process servers). */
  public int port() {
    return server.getPort();
  }

  /** Stops at once: open watch streams and calls are cancelled, so sidecars fail over quickly. */
  @Override
  public void close() {
    close(Duration.ZERO);
  }

  /** Stops accepting calls and waits up to {@code grace} for the running ones. */
  public void close(Duration grace) {
    health.enterTerminalState();
    timer.shutdownNow();
    pushes.shutdownNow();
    gauges.forEach(meters::remove);
    if (grace.isZero()) {
      server.shutdownNow();
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else {
      GrpcServers.shutdown(server, grace);
    }
    // After the server: the calls it waited for ran on these.
    callPools.forEach(ExecutorService::shutdownNow);
  }
}

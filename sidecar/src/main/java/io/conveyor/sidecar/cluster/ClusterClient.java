package io.conveyor.sidecar.cluster;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.Lifecycle;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.Routes;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's side of {@code SidecarCoordinator}: registers (retrying with backoff and jitter
 * while the router is unreachable — never a crash loop), heartbeats, keeps a watch stream open for
 * immediate assignment changes, acts on commands, and registers again when the router says it does
 * not know this sidecar (it restarted, failed over, or expired us).
 *
 * <p>The router being down does not stop the data plane: routes already known keep working, and the
 * sidecar stays ready. Only before the first registration is it not ready.
 *
 * <p>Every attempt belongs to a registration <em>session</em>; callbacks from an older session are
 * ignored, so a late answer can never undo a newer registration.
 */
public final class ClusterClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Backoff REGISTER_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10), 2.0, 0.5);

  /** What the rest of the sidecar hears from the control plane. */
  public interface Listener {
    /** The sidecar is registered (first time or again). */
    void registered(String routerInstanceId);

    /** The router asked this sidecar to drain and exit. */
    void drainRequested(Duration deadline, String reason);
  }

  private final SidecarConfig config;
  private final Channel routerChannel;
  private final SidecarCoordinatorGrpc.SidecarCoordinatorStub stub;
  private final SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub blockingStub;
  private final Routes routes;
  private final Lifecycle lifecycle;
  private final Supplier<List<DiscoveredService>> services;
  private final Supplier<SidecarLoad> load;
  private final ScheduledExecutorService scheduler;
  private final SidecarMetrics metrics;
  private final Listener listener;
  private final RandomGenerator random;

  private int session;
  private boolean registered;
  private boolean everRegistered;
  private boolean registerInFlight;
  private long appliedVersion;
  private int registerAttempts;
  private int watchAttempts;
  private boolean heartbeatFailing;
  private Duration heartbeatInterval;
  private ScheduledFuture<?> pendingRegister;
  private ScheduledFuture<?> heartbeats;
  private Context.CancellableContext watch;
  private boolean closed;

  public ClusterClient(
      SidecarConfig config,
      Channel routerChannel,
      Routes routes,
      Lifecycle lifecycle,
      Supplier<List<DiscoveredService>> services,
      Supplier<SidecarLoad> load,
      ScheduledExecutorService scheduler,
      SidecarMetrics metrics,
      Listener listener,
      RandomGenerator random) {
    this.config = config;
    this.routerChannel = routerChannel;
    this.stub = SidecarCoordinatorGrpc.newStub(routerChannel);
    this.blockingStub = SidecarCoordinatorGrpc.newBlockingStub(routerChannel);
    this.routes = routes;
    this.lifecycle = lifecycle;
    this.services = services;
    this.load = load;
    this.scheduler = scheduler;
    this.metrics = metrics;
    this.listener = listener;
    this.random = random;
    this.heartbeatInterval = config.heartbeatInterval();
  }

  public synchronized void start() {
    scheduleRegister(Duration.ZERO);
  }

  /**
   * True once the sidecar has registered at least once. Readiness follows this, not {@link
   * #isRegistered()}: a sidecar re-registering after a router restart keeps routing with the
   * assignments it has, and should not drop out of its pod's readiness meanwhile.
   */
  public synchronized boolean hasRegistered() {
    return everRegistered;
  }

  public synchronized boolean isRegistered() {
    return registered;
  }

  public synchronized long appliedVersion() {
    return appliedVersion;
  }

  // ------------------------------------------------------------------ registration

  private void scheduleRegister(Duration delay) {
    if (closed) {
      return;
    }
    if (pendingRegister != null) {
      pendingRegister.cancel(false);
    }
    int mySession = session;
    pendingRegister =
        scheduler.schedule(() -> register(mySession), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void register(int mySession) {
    RegisterSidecarRequest request;
    boolean retry;
    synchronized (this) {
      if (closed || mySession != session) {
        return;
      }
      retry = registerAttempts > 0;
      registerInFlight = true;
      request =
          RegisterSidecarRequest.newBuilder()
              .setIdentity(identity())
              .setDataPlaneEndpoint(config.dataPlaneEndpoint())
              .addAllServices(services.get())
              .setSidecarVersion(SidecarVersion.VERSION)
              .setState(lifecycle.state())
              .setHeartbeatIntervalSeconds((int) config.heartbeatInterval().toSeconds())
              .build();
    }
    if (retry) {
      reconnectNow();
    }
    stub.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .registerSidecar(
            request,
            new UnaryObserver<>() {
              @Override
              public void onNext(RegisterSidecarResponse response) {
                onRegistered(mySession, response);
              }

              @Override
              public void onError(Throwable t) {
                onRegisterFailed(mySession, Status.fromThrowable(t));
              }
            });
  }

  private void onRegistered(int mySession, RegisterSidecarResponse response) {
    synchronized (this) {
      registerInFlight = false;
      if (closed || mySession != session) {
        return;
      }
      registered = true;
      registerAttempts = 0;
      watchAttempts = 0;
      heartbeatFailing = false;
      // A fresh registration resets the version sequence: take the set whatever its version.
      appliedVersion = 0;
      apply(response.getAssignments());
      if (response.getHeartbeatIntervalSeconds() > 0) {
        heartbeatInterval = Duration.ofSeconds(response.getHeartbeatIntervalSeconds());
      }
      lifecycle.serving();
      metrics.registration("ok");
      log.info(
          "{} with router {} at {} (router instance {}); heartbeat every {} s",
          everRegistered ? "registered again" : "registered",
          config.clusterEndpoint(),
          config.dataPlaneEndpoint(),
          response.getRouterInstanceId(),
          heartbeatInterval.toSeconds());
      everRegistered = true;
      scheduleHeartbeats();
      openWatch(mySession);
    }
    listener.registered(response.getRouterInstanceId());
  }

  private synchronized void onRegisterFailed(int mySession, Status status) {
    registerInFlight = false;
    if (closed || mySession != session) {
      return;
    }
    metrics.registration("error");
    Duration delay = REGISTER_BACKOFF.delay(registerAttempts++, random);
    if (registerAttempts == 1 || registerAttempts % 10 == 0) {
      log.warn(
          "cannot register with router {} ({}); attempt {}, retrying in {} ms",
          config.clusterEndpoint(),
          describe(status),
          registerAttempts,
          delay.toMillis());
    }
    scheduleRegister(delay);
  }

  /** Starts a new session and registers again at once. */
  private synchronized void reRegister(String why) {
    if (closed) {
      return;
    }
    log.info("registering again: {}", why);
    session++;
    registered = false;
    registerAttempts = 0;
    cancelWatch();
    if (heartbeats != null) {
      heartbeats.cancel(false);
      heartbeats = null;
    }
    scheduleRegister(Duration.ZERO);
  }

  // ------------------------------------------------------------------ heartbeats

  private void scheduleHeartbeats() {
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
    int mySession = session;
    long period = heartbeatInterval.toMillis();
    heartbeats =
        // Fixed delay, not rate: after a stall the sidecar sends one heartbeat, not a burst.
        scheduler.scheduleWithFixedDelay(
            () -> heartbeat(mySession), period, period, TimeUnit.MILLISECONDS);
  }

  /** Sends a heartbeat now, e.g. because discovery found a change the router should know of. */
  public void heartbeatNow() {
    int mySession;
    synchronized (this) {
      if (!registered || closed) {
        return;
      }
      mySession = session;
    }
    scheduler.execute(() -> heartbeat(mySession));
  }

  private void heartbeat(int mySession) {
    HeartbeatRequest request;
    boolean failing;
    synchronized (this) {
      if (closed || mySession != session || !registered) {
        return;
      }
      failing = heartbeatFailing;
      request =
          HeartbeatRequest.newBuilder()
              .setSidecarId(config.sidecarId())
              .setAssignmentVersion(appliedVersion)
              .setState(lifecycle.state())
              .addAllServices(services.get())
              .setLoad(load.get())
              .build();
    }
    if (failing) {
      reconnectNow();
    }
    long timeout = Math.min(CALL_TIMEOUT.toMillis(), Math.max(500, heartbeatInterval.toMillis()));
    stub.withDeadlineAfter(timeout, TimeUnit.MILLISECONDS)
        .heartbeat(
            request,
            new UnaryObserver<>() {
              @Override
              public void onNext(HeartbeatResponse response) {
                onHeartbeatAnswered(mySession, response);
              }

              @Override
              public void onError(Throwable t) {
                onHeartbeatFailed(mySession, Status.fromThrowable(t));
              }
            });
  }

  private void onHeartbeatAnswered(int mySession, HeartbeatResponse response) {
    synchronized (this) {
      if (closed || mySession != session) {
        return;
      }
      metrics.heartbeat("ok");
      if (heartbeatFailing) {
        heartbeatFailing = false;
        log.info("router {} answers heartbeats again", config.clusterEndpoint());
      }
      if (response.getHeartbeatIntervalSeconds() > 0
          && response.getHeartbeatIntervalSeconds() != heartbeatInterval.toSeconds()) {
        heartbeatInterval = Duration.ofSeconds(response.getHeartbeatIntervalSeconds());
        scheduleHeartbeats();
      }
    }
    handle(mySession, response.getCommandsList());
  }

  private void onHeartbeatFailed(int mySession, Status status) {
    synchronized (this) {
      if (closed || mySession != session) {
        return;
      }
      metrics.heartbeat(status.getCode() == Status.Code.NOT_FOUND ? "unknown_sidecar" : "error");
      if (status.getCode() != Status.Code.NOT_FOUND) {
        if (!heartbeatFailing) {
          heartbeatFailing = true;
          log.warn(
              "heartbeat to router {} failed ({}); routing continues with the last assignments",
              config.clusterEndpoint(),
              describe(status));
        }
        return;
      }
    }
    reRegister("the router does not know this sidecar (" + describe(status) + ")");
  }

  // ------------------------------------------------------------------ watch stream

  private void openWatch(int mySession) {
    cancelWatch();
    Context.CancellableContext context = Context.current().withCancellation();
    watch = context;
    WatchAssignmentsRequest request =
        WatchAssignmentsRequest.newBuilder()
            .setSidecarId(config.sidecarId())
            .setKnownVersion(appliedVersion)
            .build();
    context.run(
        () ->
            stub.watchAssignments(
                request,
                new StreamObserver<>() {
                  @Override
                  public void onNext(AssignmentUpdate update) {
                    synchronized (ClusterClient.this) {
                      watchAttempts = 0;
                    }
                    handle(mySession, update.getCommandsList());
                  }

                  @Override
                  public void onError(Throwable t) {
                    onWatchEnded(mySession, context, Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    onWatchEnded(
                        mySession,
                        context,
                        Status.UNAVAILABLE.withDescription("router ended the watch"));
                  }
                }));
  }

  private void onWatchEnded(int mySession, Context.CancellableContext context, Status status) {
    synchronized (this) {
      if (closed || mySession != session || watch != context) {
        return; // cancelled by us, or from an older session
      }
      if (status.getCode() != Status.Code.NOT_FOUND) {
        Duration delay = REGISTER_BACKOFF.delay(watchAttempts++, random);
        log.debug(
            "watch stream ended ({}); reopening in {} ms", describe(status), delay.toMillis());
        scheduler.schedule(
            () -> {
              reconnectNow();
              synchronized (ClusterClient.this) {
                if (!closed && mySession == session && registered && watch == context) {
                  openWatch(mySession);
                }
              }
            },
            delay.toMillis(),
            TimeUnit.MILLISECONDS);
        return;
      }
    }
    reRegister("the router ended the watch stream: " + describe(status));
  }

  /**
   * Lets the next call connect at once instead of waiting out the channel's own reconnect backoff,
   * which grows to two minutes while the router is away: this client's retries (capped at 10 s) and
   * heartbeats set the pace, so the router is found again soon after it comes back. Called without
   * holding this client's lock: the channel may run call callbacks inline.
   */
  private void reconnectNow() {
    if (routerChannel instanceof ManagedChannel managed) {
      managed.resetConnectBackoff();
    }
  }

  private void cancelWatch() {
    if (watch != null) {
      Context.CancellableContext old = watch;
      watch = null;
      old.cancel(null);
    }
  }

  // ------------------------------------------------------------------ commands

  private void handle(int mySession, List<Command> commands) {
    for (Command command : commands) {
      switch (command.getCommandCase()) {
        case ASSIGN -> {
          synchronized (this) {
            if (mySession == session && !closed) {
              apply(command.getAssign());
            }
          }
        }
        case REVOKE ->
            log.info(
                "pipeline '{}' revoked (drain={}): {}",
                command.getRevoke().getPipeline(),
                command.getRevoke().getDrain(),
                command.getRevoke().getReason());
        case DRAIN ->
            listener.drainRequested(
                Duration.ofSeconds(command.getDrain().getDeadlineSeconds()),
                command.getDrain().getReason());
        default ->
            log.warn("ignoring an unknown command from the router: {}", command.getCommandCase());
      }
    }
  }

  /** Applies an assignment set newer than the one applied. Caller holds the lock. */
  private void apply(AssignmentSet set) {
    if (set.getVersion() <= appliedVersion) {
      return;
    }
    appliedVersion = set.getVersion();
    routes.assign(set);
    log.info(
        "applied assignment version {}: {}",
        set.getVersion(),
        set.getPipelinesList().stream()
            .map(
                p ->
                    p.getPipeline()
                        + p.getStagesList().stream()
                            .map(
                                s ->
                                    s.getName()
                                        + (s.getLocal() ? "(local)" : "")
                                        + "x"
                                        + s.getTargetsCount())
                            .toList())
            .toList());
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Tells the router this sidecar is leaving; waits at most {@code timeout}. Stops the client
   * first: no heartbeat, watch or registration may follow, or the router would learn of the sidecar
   * again (its own closing of our watch stream would otherwise look like "unknown sidecar,
   * register").
   */
  public void deregister(String reason, Duration timeout) {
    boolean known;
    synchronized (this) {
      known = everRegistered || registerInFlight;
      close();
      registered = false;
    }
    if (!known) {
      return;
    }
    try {
      blockingStub
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .deregisterSidecar(
              DeregisterSidecarRequest.newBuilder()
                  .setSidecarId(config.sidecarId())
                  .setReason(reason)
                  .build());
      log.info("deregistered from router {}", config.clusterEndpoint());
    } catch (RuntimeException e) {
      log.warn(
          "could not deregister ({}); the router will expire this sidecar",
          describe(Status.fromThrowable(e)));
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    cancelWatch();
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
    if (pendingRegister != null) {
      pendingRegister.cancel(false);
    }
  }

  private SidecarIdentity identity() {
    return SidecarIdentity.newBuilder()
        .setSidecarId(config.sidecarId())
        .setPodName(config.podName())
        .setNamespace(config.namespace())
        .setPodUid(config.podUid())
        .setPodIp(config.podIp())
        .build();
  }

  private static String describe(Status status) {
    return status.getDescription() == null
        ? status.getCode().name()
        : status.getCode() + ": " + status.getDescription();
  }

  /** A unary observer that only cares about the value and the error. */
  private abstract static class UnaryObserver<T> implements StreamObserver<T> {
    @Override
    public void onCompleted() {}
  }
}

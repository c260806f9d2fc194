package io.conveyor.sidecar.cluster;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.RevokePipeline;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.Lifecycle;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.Routes;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p>A state machine ({@link ClusterState}) driven on one {@link SynchronizationContext}: every
 * gRPC callback and every timer is handed to the context, which runs one task at a time, so no lock
 * is needed and no callback races another. Each registration gets its own {@link Registration},
 * then its own {@link Heartbeats} and {@link AssignmentWatch}; leaving a state stops its parts on
 * the context, so a late answer from an older registration finds its part stopped and can never
 * undo a newer one.
 */
public final class ClusterClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterClient.class);

  /** Between registration attempts and watch reopenings: 200 ms doubling to 10 s, jitter 50%. */
  private static final Backoff RETRY_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10), 2.0, 0.5);

  /**
   * What the rest of the sidecar hears from the control plane. Called on the client's
   * synchronization context, which may be a network thread: the methods must not block.
   */
  public interface Listener {
    /** The sidecar is registered (first time or again). */
    void registered(String routerInstanceId);

    /**
     * The router took a pipeline away from this pod (removed, or no longer placed here). Heard in
     * order with the assignments of the same message: before the set that no longer holds it.
     *
     * @param drain whether batches of the pipeline already in flight finish (true) or fail
     *     retryably (false)
     */
    void pipelineRevoked(String pipeline, boolean drain, String reason);

    /** The router asked this sidecar to drain and exit. */
    void drainRequested(Duration deadline, String reason);
  }

  private final SidecarConfig config;
  private final RouterConnection router;
  private final RouterRequests requests;
  private final Routes routes;
  private final Lifecycle lifecycle;
  private final ScheduledExecutorService timer;
  private final SidecarMetrics metrics;
  private final Listener listener;
  private final RandomGenerator random;
  private final SynchronizationContext context =
      new SynchronizationContext(
          (thread, error) ->
              log.error("a cluster client task failed; the client carries on", error));

  // Written on the context only; volatile for the readers outside it (readiness, gauges).
  private volatile ClusterState state = ClusterState.STARTING;
  private volatile boolean everRegistered;
  private volatile long appliedVersion;

  // Confined to the context. A registration in REGISTERING and RE_REGISTERING; heartbeats and
  // watch in REGISTERED. A registration stopped by close() is kept for deregister's question.
  private Duration heartbeatInterval;

  /** The set of {@link #appliedVersion}; empty while that is 0. */
  private AssignmentSet appliedSet = AssignmentSet.getDefaultInstance();

  private Registration registration;
  private Heartbeats heartbeats;
  private AssignmentWatch watch;

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
    this.router = new RouterConnection(routerChannel);
    this.requests = new RouterRequests(config, lifecycle, services, load);
    this.routes = routes;
    this.lifecycle = lifecycle;
    this.timer = scheduler;
    this.metrics = metrics;
    this.listener = listener;
    this.random = random;
    this.heartbeatInterval = config.heartbeatInterval();
  }

  /** Starts registering. Does nothing once started or closed. */
  public void start() {
    context.execute(
        () -> {
          if (state == ClusterState.STARTING) {
            moveTo(ClusterState.REGISTERING);
            beginRegistration();
          }
        });
  }

  public ClusterState state() {
    return state;
  }

  /**
   * True once the sidecar has registered at least once. Readiness follows this, not {@link
   * #isRegistered()}: a sidecar re-registering after a router restart keeps routing with the
   * assignments it has, and should not drop out of its pod's readiness meanwhile.
   */
  public boolean hasRegistered() {
    return everRegistered;
  }

  public boolean isRegistered() {
    return state == ClusterState.REGISTERED;
  }

  public long appliedVersion() {
    return appliedVersion;
  }

  /** Sends a heartbeat now, e.g. because discovery found a change the router should know of. */
  public void heartbeatNow() {
    context.execute(
        () -> {
          if (state == ClusterState.REGISTERED) {
            heartbeats.now();
          }
        });
  }

  // ------------------------------------------------------------------ transitions

  private void moveTo(ClusterState next) {
    ClusterState previous = state;
    if (!previous.canMoveTo(next)) {
      throw new IllegalStateException("cluster client cannot go from " + previous + " to " + next);
    }
    state = next;
    log.debug("cluster client: {} -> {}", previous, next);
  }

  private void beginRegistration() {
    registration =
        new Registration(
            context,
            router,
            requests::register,
            RETRY_BACKOFF,
            random,
            timer,
            metrics,
            config.clusterEndpoint().toString(),
            this::registered);
    registration.start();
  }

  /** REGISTERING or RE_REGISTERING → REGISTERED. */
  private void registered(RegisterSidecarResponse response) {
    registration = null;
    boolean again = everRegistered;
    // A fresh registration resets the version sequence: take the set whatever its version.
    appliedVersion = 0;
    appliedSet = AssignmentSet.getDefaultInstance();
    apply(response.getAssignments());
    if (response.getHeartbeatIntervalSeconds() > 0) {
      heartbeatInterval = Duration.ofSeconds(response.getHeartbeatIntervalSeconds());
    }
    lifecycle.serving();
    // Published after the assignments: whoever sees REGISTERED sees the routes it came with.
    moveTo(ClusterState.REGISTERED);
    everRegistered = true;
    log.info(
        "{} with router {} at {} (router instance {}); heartbeat every {} s",
        again ? "registered again" : "registered",
        config.clusterEndpoint(),
        config.dataPlaneEndpoint(),
        response.getRouterInstanceId(),
        heartbeatInterval.toSeconds());
    RouterEvents events = new RegisteredEvents();
    heartbeats =
        new Heartbeats(
            context,
            router,
            () -> requests.heartbeat(appliedVersion),
            heartbeatInterval,
            timer,
            metrics,
            config.clusterEndpoint().toString(),
            events);
    heartbeats.start();
    watch =
        new AssignmentWatch(
            context,
            router,
            requests::watch,
            () -> appliedSet,
            RETRY_BACKOFF,
            random,
            timer,
            events,
            metrics.assignmentResyncs());
    watch.open();
    listener.registered(response.getRouterInstanceId());
  }

  /** REGISTERED → RE_REGISTERING: the router no longer knows this sidecar. */
  private void registerAgain(String why) {
    log.info("registering again: {}", why);
    stopRegisteredParts();
    moveTo(ClusterState.RE_REGISTERING);
    beginRegistration();
  }

  private void stopRegisteredParts() {
    if (heartbeats != null) {
      heartbeatInterval = heartbeats.interval();
      heartbeats.stop();
      heartbeats = null;
    }
    if (watch != null) {
      watch.stop();
      watch = null;
    }
  }

  /** Any state → CLOSED. Answers whether the router may know this sidecar. */
  private boolean closeOnContext() {
    boolean routerMayKnowUs =
        everRegistered || (registration != null && registration.callInFlight());
    if (state != ClusterState.CLOSED) {
      moveTo(ClusterState.CLOSED);
      if (registration != null) {
        registration.stop();
      }
      stopRegisteredParts();
    }
    return routerMayKnowUs;
  }

  /**
   * Events of the current registration's heartbeats and watch. Their parts are stopped on the
   * context as the state leaves REGISTERED, so these run only while it is REGISTERED.
   */
  private final class RegisteredEvents implements RouterEvents {
    @Override
    public void commands(List<Command> commands) {
      handle(commands);
    }

    @Override
    public void unknownSidecar(String why) {
      registerAgain(why);
    }
  }

  // ------------------------------------------------------------------ commands

  /**
   * Acts on a revoke unless it arrived late: the router delivers pushes outside its lock, so a
   * revoke can reach the sidecar after a newer set that lists the pipeline again, and acting on it
   * then would keep the pipeline out until some later change.
   */
  private void revoke(RevokePipeline revoke) {
    long version = revoke.getAssignmentVersion();
    if (version > 0 && version <= appliedVersion) {
      log.debug(
          "ignoring a late revoke of '{}' (for version {}, version {} applied)",
          revoke.getPipeline(),
          version,
          appliedVersion);
      return;
    }
    listener.pipelineRevoked(revoke.getPipeline(), revoke.getDrain(), revoke.getReason());
  }

  private void handle(List<Command> commands) {
    for (Command command : commands) {
      switch (command.getCommandCase()) {
        case ASSIGN -> apply(command.getAssign());
        case REVOKE -> revoke(command.getRevoke());
        case DRAIN ->
            listener.drainRequested(
                Duration.ofSeconds(command.getDrain().getDeadlineSeconds()),
                command.getDrain().getReason());
        default ->
            log.warn("ignoring an unknown command from the router: {}", command.getCommandCase());
      }
    }
  }

  /** Applies an assignment set newer than the one applied. */
  private void apply(AssignmentSet set) {
    if (set.getVersion() <= appliedVersion) {
      return;
    }
    appliedVersion = set.getVersion();
    appliedSet = set;
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
   * Tells the router this sidecar is leaving; waits at most {@code timeout}. Closes the client
   * first: no heartbeat, watch or registration may follow, or the router would learn of the sidecar
   * again (its own closing of our watch stream would otherwise look like "unknown sidecar,
   * register"). Must not be called on the client's context (from a {@link Listener}).
   */
  public void deregister(String reason, Duration timeout) {
    CompletableFuture<Boolean> closed = new CompletableFuture<>();
    context.execute(() -> closed.complete(closeOnContext()));
    if (!routerMayKnowUs(closed, timeout)) {
      return;
    }
    try {
      router.deregister(requests.deregister(reason), timeout);
      log.info("deregistered from router {}", config.clusterEndpoint());
    } catch (RuntimeException e) {
      log.warn(
          "could not deregister ({}); the router will expire this sidecar",
          RouterConnection.describe(Status.fromThrowable(e)));
    }
  }

  /**
   * The close normally ran inline; it waits only behind a task another thread is running. When that
   * takes too long the router is told anyway: deregistering an unknown sidecar is harmless.
   */
  private static boolean routerMayKnowUs(CompletableFuture<Boolean> closed, Duration timeout) {
    try {
      return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return true;
    }
  }

  /**
   * Stops the client: nothing is sent after, and no answer still to come is acted on. Takes effect
   * before any later callback; returns at once (a callback another thread is running finishes
   * first).
   */
  @Override
  public void close() {
    context.execute(this::closeOnContext);
  }
}

package io.conveyor.router.core;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DrainSidecar;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.RevokePipeline;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.plan.AssignmentPlanner;
import io.conveyor.router.plan.RoutingPlan;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.router.registry.SidecarRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's state machine: the sidecar registry, the pipelines, the routing plan computed from
 * them and the assignment set each sidecar holds. No network and no clock of its own; the gRPC
 * service, the standalone main and the operator drive it.
 *
 * <p>Every change re-plans. A sidecar whose assignments changed gets a new {@link AssignmentSet}
 * version, pushed on its watch stream at once and, for a sidecar without a stream that takes
 * deltas, repeated in heartbeat replies until the sidecar reports it applied it. State changes
 * happen under one lock; pushes and listener callbacks are made after it is released, so a slow
 * subscriber never blocks the router.
 *
 * <p>Warm-up: a router that just started serving (restarted, or a new operator leader) meets its
 * sidecars one by one as each re-registers. A set computed then may name a pipeline whose later
 * stages have not come back yet, and a sidecar applying it would route into nothing and fail its
 * records. So for {@link RouterSettings#warmUp()} after {@link #servingStarted()}, a sidecar new to
 * this router whose set has such an incomplete pipeline is <em>held</em>: it is answered with no
 * set (version 0, which the sidecar does not apply: it keeps the routes it had) until its pipelines
 * are complete or the window ends, whichever comes first; then its set is pushed like any change.
 */
public final class RouterCore {

  private static final Logger log = LoggerFactory.getLogger(RouterCore.class);

  private final Clock clock;
  private final RouterSettings settings;
  private final String instanceId = UUID.randomUUID().toString();

  private final Object lock = new Object();
  private final SidecarRegistry registry;
  private final Map<String, PipelineDefinition> pipelines = new LinkedHashMap<>();
  private final Map<String, AssignmentSet> assignments = new HashMap<>();
  private final Map<String, AssignmentSubscriber> watchers = new HashMap<>();
  private final Map<String, List<Command>> pendingDrains = new HashMap<>();

  /** Registrations waiting for a caller to record and plan them (see {@link #registerAsync}). */
  private final Queue<QueuedRegistration> queued = new ConcurrentLinkedQueue<>();

  /** Whether a caller is recording and planning the queued registrations. */
  private final AtomicBoolean combining = new AtomicBoolean();

  /** Sidecars whose computed set is held back during the warm-up (see the class comment). */
  private final Set<String> withheld = new HashSet<>();

  /** End of the warm-up window; null before serving started, without a window and after it. */
  private Instant warmUpEnds;

  private RoutingPlan plan = RoutingPlan.EMPTY;

  /**
   * The sidecars registered, changed or removed since the plan was computed: the next re-plan
   * derives from the plan with only these looked at (see {@link AssignmentPlanner}). Not empty also
   * means a registration was recorded that the plan does not include yet (see {@link
   * #registerAsync}).
   */
  private final Set<String> unplanned = new HashSet<>();

  /**
   * The sidecars whose only news since the plan is an uneventful heartbeat: their records are new
   * instances the next re-plan must look at (the plan keeps the records it was computed with), but
   * they are no reason to re-plan. Kept apart from {@link #unplanned} so that in a storm, with the
   * fleet heartbeating, a heartbeat costs no re-plan of its own and the re-plans stay one per batch
   * of registrations.
   */
  private final Set<String> heartbeatsOnly = new HashSet<>();

  /** The pipelines changed since the plan was computed: the next re-plan looks at every sidecar. */
  private boolean pipelinesChanged;

  private long nextVersion;

  /** Re-plans since start: fewer than the registrations in a storm (see {@link #registerAsync}). */
  private long replans;

  /** What a held sidecar is answered with: version 0, "no set yet", which it does not apply. */
  private static final AssignmentSet NO_SET = AssignmentSet.getDefaultInstance();

  private final List<RouterListener> listeners = new CopyOnWriteArrayList<>();

  public RouterCore(Clock clock, RouterSettings settings) {
    this.clock = clock;
    this.settings = settings;
    this.registry = new SidecarRegistry(settings.maxSidecars());
    // Versions start from the clock so that a restarted router never hands out a version a
    // sidecar has already seen from its predecessor.
    this.nextVersion = clock.millis();
  }

  public void addListener(RouterListener listener) {
    listeners.add(listener);
  }

  /** How many times this router re-planned: for a metric, and tests of the group commit. */
  public long replans() {
    synchronized (lock) {
      return replans;
    }
  }

  /** Identifies this router process in registration replies. */
  public String instanceId() {
    return instanceId;
  }

  public RouterSettings settings() {
    return settings;
  }

  /**
   * Opens the warm-up window (see the class comment): called when the router starts serving, so
   * that the time spent loading pipelines or syncing caches before does not use it up. Without a
   * call, or with a zero {@link RouterSettings#warmUp()}, no set is ever held.
   */
  public void servingStarted() {
    if (settings.warmUp().isZero()) {
      return;
    }
    Instant ends;
    synchronized (lock) {
      ends = clock.instant().plus(settings.warmUp());
      warmUpEnds = ends;
    }
    log.info(
        "warm-up until {}: a sidecar coming back is handed its assignments once its pipelines have"
            + " every stage served, or when the warm-up ends",
        ends);
  }

  /**
   * Ends the warm-up window once its time has come and hands out every set still held; the router
   * server's timer calls it. Returns true on the call that ended the window.
   */
  public boolean endWarmUpIfDue() {
    Effects effects = new Effects();
    List<String> released;
    synchronized (lock) {
      if (warmUpEnds == null || clock.instant().isBefore(warmUpEnds)) {
        return false;
      }
      warmUpEnds = null;
      released = release(effects);
    }
    effects.deliver();
    if (released.isEmpty()) {
      log.info("warm-up over; no assignment set was held back at its end");
    } else {
      log.info(
          "warm-up over; handed out {} assignment set(s) held back with incomplete pipelines"
              + " (first ten: {})",
          released.size(),
          released.subList(0, Math.min(10, released.size())));
    }
    return true;
  }

  // ------------------------------------------------------------------ sidecars

  /**
   * Registers (or re-registers) a sidecar and returns its assignments.
   *
   * @throws IllegalArgumentException when the request lacks the sidecar id or endpoint
   * @throws SidecarRegistry.RegistryFullException when the router tracks its maximum
   */
  public RegisterSidecarResponse register(RegisterSidecarRequest request) {
    return register(request, "");
  }

  /**
   * As {@link #register(RegisterSidecarRequest)}, for a sidecar whose client certificate proved
   * {@code workloadIdentity} (a SPIFFE URI; empty without mutual TLS): the identity its peers check
   * before they send it a batch, and may forward batches with.
   *
   * @throws SidecarRegistry.ForeignClaimException when an identified sidecar names another pod's
   *     sidecar id or pod UID
   */
  public RegisterSidecarResponse register(RegisterSidecarRequest request, String workloadIdentity) {
    try {
      return registerAsync(request, workloadIdentity).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException refused) {
        throw refused;
      }
      throw e;
    }
  }

  /**
   * As {@link #register(RegisterSidecarRequest, String)}, without waiting: the reply completes when
   * the registration is recorded and planned, possibly by another caller's thread (see the group
   * commit below), or fails with what {@code register} would throw after the request was found
   * well-formed.
   *
   * @throws IllegalArgumentException when the request lacks the sidecar id or endpoint
   */
  public CompletableFuture<RegisterSidecarResponse> registerAsync(
      RegisterSidecarRequest request, String workloadIdentity) {
    String id = request.getIdentity().getSidecarId();
    if (id.isBlank()) {
      throw new IllegalArgumentException("identity.sidecar_id is required");
    }
    if (request.getDataPlaneEndpoint().isBlank()) {
      throw new IllegalArgumentException("data_plane_endpoint is required (host:port)");
    }
    Duration interval = settings.heartbeatInterval(request.getHeartbeatIntervalSeconds());
    Instant now = clock.instant();
    SidecarRecord record =
        new SidecarRecord(
            id,
            orDefault(request.getIdentity().getNamespace(), "default"),
            request.getIdentity().getPodName(),
            request.getIdentity().getPodUid(),
            request.getIdentity().getPodIp(),
            request.getDataPlaneEndpoint(),
            request.getSidecarVersion(),
            request.getState() == SidecarState.SIDECAR_STATE_UNSPECIFIED
                ? SidecarState.SIDECAR_STATE_SERVING
                : request.getState(),
            request.getServicesList(),
            interval,
            now,
            now,
            io.conveyor.etl.v1.SidecarLoad.getDefaultInstance(),
            workloadIdentity);
    // Group commit (flat combining): a registration is queued, and the caller that finds no other
    // at work records and plans every queued one at once and completes their replies; the others
    // return at once. Only the combining caller waits for the lock, so a storm does not hold the
    // calls' bounded pool, and every registration that arrives while a re-plan runs is in the next
    // one. Recording under the lock instead let the thread that had just recorded retake it to
    // plan for itself alone: 1,990 re-plans for 2,000 registrations in ./conveyor bench router.
    // Every reply still carries a set planned with its sidecar.
    QueuedRegistration mine = new QueuedRegistration(record, interval);
    queued.add(mine);
    combine();
    return mine.reply;
  }

  /**
   * Records and plans the queued registrations while no other caller does. Checks the queue again
   * after letting go: a registration queued while this one was finishing is not left waiting.
   */
  private void combine() {
    while (!queued.isEmpty() && combining.compareAndSet(false, true)) {
      List<QueuedRegistration> batch = new ArrayList<>();
      Effects effects = new Effects();
      RuntimeException failed = null;
      try {
        synchronized (lock) {
          recordQueued(effects, batch);
          if (!unplanned.isEmpty()) {
            replan(effects);
          }
          for (QueuedRegistration registration : batch) {
            String id = registration.record.sidecarId();
            registration.set = registry.get(id).isPresent() ? published(id) : NO_SET; // replaced
          }
        }
        effects.deliver();
      } catch (RuntimeException e) { // a defect, not the callers' fault: their replies say so
        failed = new IllegalStateException("recording and planning registrations failed", e);
        log.error("recording and planning {} registration(s) failed", batch.size(), e);
      } finally {
        combining.set(false);
        // Every reply of the batch is completed, whatever happened above, or its caller would
        // wait for its deadline.
        for (QueuedRegistration registration : batch) {
          registration.complete(failed, instanceId);
        }
      }
    }
  }

  /** A registration waiting to be recorded and planned, and its reply. */
  private static final class QueuedRegistration {
    final SidecarRecord record;
    final Duration interval;
    final CompletableFuture<RegisterSidecarResponse> reply = new CompletableFuture<>();
    // Written under the lock by the combining caller, read by it after: one thread.
    RuntimeException refused;
    AssignmentSet set;

    QueuedRegistration(SidecarRecord record, Duration interval) {
      this.record = record;
      this.interval = interval;
    }

    void complete(RuntimeException failed, String instanceId) {
      if (refused != null) { // refused when recorded, whatever happened to the rest of the batch
        reply.completeExceptionally(refused);
        return;
      }
      if (failed != null || set == null) {
        reply.completeExceptionally(
            failed != null ? failed : new IllegalStateException("registration left unplanned"));
        return;
      }
      reply.complete(
          RegisterSidecarResponse.newBuilder()
              .setAssignments(set)
              .setHeartbeatIntervalSeconds((int) interval.toSeconds())
              .setRouterInstanceId(instanceId)
              .build());
    }
  }

  /**
   * Records every queued registration, in the order they were queued, and adds it to {@code batch};
   * holds the lock.
   */
  private void recordQueued(Effects effects, List<QueuedRegistration> batch) {
    for (QueuedRegistration next = queued.poll(); next != null; next = queued.poll()) {
      batch.add(next);
      String id = next.record.sidecarId();
      try {
        boolean handedASetBefore = assignments.containsKey(id);
        for (String replaced : registry.register(next.record)) {
          forget(replaced, effects, "replaced by sidecar " + id + " of the same pod");
        }
        effects.sidecarChanged.add(id);
        if (!handedASetBefore && warmingUp()) {
          withheld.add(id); // released by replan at once when its pipelines are complete
        }
        unplanned.add(id);
      } catch (SidecarRegistry.RegistryFullException | SidecarRegistry.ForeignClaimException e) {
        next.refused = e; // its caller's answer; anything else fails the batch
      }
    }
  }

  /**
   * Records a heartbeat and returns the commands for the sidecar.
   *
   * @throws UnknownSidecarException when the sidecar is not registered (router restarted, or the
   *     sidecar expired)
   */
  public HeartbeatResponse heartbeat(HeartbeatRequest request) {
    Effects effects = new Effects();
    HeartbeatResponse.Builder response = HeartbeatResponse.newBuilder();
    synchronized (lock) {
      SidecarRecord before =
          registry
              .get(request.getSidecarId())
              .orElseThrow(() -> new UnknownSidecarException(request.getSidecarId()));
      SidecarRecord after =
          before.withHeartbeat(
              clock.instant(),
              request.getState() == SidecarState.SIDECAR_STATE_UNSPECIFIED
                  ? before.state()
                  : request.getState(),
              request.getServicesList(),
              request.getLoad());
      registry.update(after);
      if (after.differsMeaningfullyFrom(before)) {
        effects.sidecarChanged.add(after.sidecarId());
        unplanned.add(after.sidecarId());
        replan(effects);
      } else {
        // The plan keeps the record it was computed with; only a changed sidecar's is looked at.
        heartbeatsOnly.add(after.sidecarId());
      }
      response.addAllCommands(takePendingDrains(after.sidecarId()));
      // A watch stream that takes deltas delivers every set itself, at the cost of what changed:
      // the reply leaves sets to it rather than repeating them whole (in a storm, that was a full
      // set per heartbeat per sidecar whose stream was pacing). A sidecar without such a stream
      // gets from the reply what the change means for it: the revokes the replan computed (its
      // services changed, so it no longer runs a pipeline), then the new set.
      AssignmentSubscriber watcher = watchers.get(after.sidecarId());
      if (watcher == null || !watcher.carriesSets()) {
        List<Command> own = effects.pushes.remove(after.sidecarId());
        if (own != null) {
          own.stream().filter(Command::hasRevoke).forEach(response::addCommands);
        }
        AssignmentSet set = published(after.sidecarId());
        if (set.getVersion() != request.getAssignmentVersion()) {
          response.addCommands(Command.newBuilder().setAssign(set));
        }
      }
      response.setHeartbeatIntervalSeconds((int) after.heartbeatInterval().toSeconds());
    }
    effects.deliver();
    return response.build();
  }

  /**
   * Subscribes to a sidecar's commands. A newer watch replaces an older one. When the sidecar's
   * applied version is behind (or ahead, or from before a registration), its current set is sent at
   * once, whole: that is also how a sidecar that could not apply a delta asks for a resync.
   *
   * @return a handle that unsubscribes this subscriber (and only it)
   * @throws UnknownSidecarException when the sidecar is not registered
   */
  public Runnable watch(String sidecarId, long knownVersion, AssignmentSubscriber subscriber) {
    AssignmentSubscriber previous;
    List<Command> initial = new ArrayList<>();
    synchronized (lock) {
      if (registry.get(sidecarId).isEmpty()) {
        throw new UnknownSidecarException(sidecarId);
      }
      previous = watchers.put(sidecarId, subscriber);
      initial.addAll(takePendingDrains(sidecarId));
      AssignmentSet set = published(sidecarId);
      if (set.getVersion() != knownVersion) {
        initial.add(Command.newBuilder().setAssign(set).build());
      } else if (set.getVersion() != 0) {
        subscriber.holds(set); // the sidecar has it: the next change can go as a delta from it
      }
    }
    if (previous != null && previous != subscriber) {
      previous.close("replaced by a newer watch of the same sidecar");
    }
    if (!initial.isEmpty()) {
      subscriber.send(initial);
    }
    return () -> {
      synchronized (lock) {
        watchers.remove(sidecarId, subscriber);
      }
    };
  }

  /** Removes a sidecar that is leaving. Unknown ids are ignored (deregistering is idempotent). */
  public boolean deregister(String sidecarId) {
    Effects effects = new Effects();
    boolean known;
    synchronized (lock) {
      known = registry.remove(sidecarId).isPresent();
      if (known) {
        forget(sidecarId, effects, "deregistered");
        replan(effects);
      }
    }
    effects.deliver();
    return known;
  }

  /** Removes the sidecars that missed their heartbeats and reassigns; returns their ids. */
  public List<String> expire() {
    Effects effects = new Effects();
    List<String> expired = new ArrayList<>();
    synchronized (lock) {
      for (SidecarRecord record : registry.expired(clock.instant(), settings.missedHeartbeats())) {
        registry.remove(record.sidecarId());
        forget(record.sidecarId(), effects, "expired after missed heartbeats");
        expired.add(record.sidecarId());
      }
      if (!expired.isEmpty()) {
        replan(effects);
      }
    }
    effects.deliver();
    return expired;
  }

  /**
   * Asks a sidecar to drain and exit, through its watch stream or its next heartbeat.
   *
   * @return false when the sidecar is unknown
   */
  public boolean requestDrain(String sidecarId, Duration deadline, String reason) {
    Effects effects = new Effects();
    synchronized (lock) {
      if (registry.get(sidecarId).isEmpty()) {
        return false;
      }
      Command drain =
          Command.newBuilder()
              .setDrain(
                  DrainSidecar.newBuilder()
                      .setDeadlineSeconds((int) deadline.toSeconds())
                      .setReason(reason))
              .build();
      AssignmentSubscriber watcher = watchers.get(sidecarId);
      if (watcher != null) {
        effects.pushes.computeIfAbsent(sidecarId, k -> new ArrayList<>()).add(drain);
      } else {
        pendingDrains.computeIfAbsent(sidecarId, k -> new ArrayList<>()).add(drain);
      }
    }
    effects.deliver();
    return true;
  }

  // ------------------------------------------------------------------ pipelines

  /** Replaces every pipeline (standalone mode, after reading the folder). */
  public void replacePipelines(Collection<PipelineDefinition> definitions) {
    Effects effects = new Effects();
    synchronized (lock) {
      Map<String, PipelineDefinition> next = new LinkedHashMap<>();
      for (PipelineDefinition definition : definitions) {
        next.put(definition.key(), withGeneration(definition));
      }
      checkPipelineLimit(next.size());
      pipelines.clear();
      pipelines.putAll(next);
      pipelinesChanged = true;
      replan(effects);
      effects.planChanged = true;
    }
    effects.deliver();
  }

  /** Adds or replaces one pipeline (operator mode). */
  public void upsertPipeline(PipelineDefinition definition) {
    Effects effects = new Effects();
    synchronized (lock) {
      if (!pipelines.containsKey(definition.key())) {
        checkPipelineLimit(pipelines.size() + 1);
      }
      PipelineDefinition previous = pipelines.put(definition.key(), withGeneration(definition));
      if (previous == null || !previous.equals(pipelines.get(definition.key()))) {
        pipelinesChanged = true;
        replan(effects);
        effects.planChanged = true;
      }
    }
    effects.deliver();
  }

  /** Removes a pipeline by {@code namespace/name}; its sidecars are told to drain it. */
  public void removePipeline(String key) {
    Effects effects = new Effects();
    synchronized (lock) {
      if (pipelines.remove(key) != null) {
        pipelinesChanged = true;
        replan(effects);
        effects.planChanged = true;
      }
    }
    effects.deliver();
  }

  // ------------------------------------------------------------------ views

  public RoutingPlan plan() {
    synchronized (lock) {
      return plan;
    }
  }

  public List<SidecarRecord> sidecars() {
    synchronized (lock) {
      return List.copyOf(registry.all());
    }
  }

  public Optional<SidecarRecord> sidecar(String sidecarId) {
    synchronized (lock) {
      return registry.get(sidecarId);
    }
  }

  public List<PipelineDefinition> pipelines() {
    synchronized (lock) {
      return List.copyOf(pipelines.values());
    }
  }

  /**
   * The assignment set computed for a sidecar (empty when unknown). During the warm-up it may still
   * be held back from the sidecar: see {@link #heldBack(String)}.
   */
  public Optional<AssignmentSet> assignments(String sidecarId) {
    synchronized (lock) {
      return Optional.ofNullable(assignments.get(sidecarId));
    }
  }

  /** True while the sidecar's set is held back by the warm-up (see the class comment). */
  public boolean heldBack(String sidecarId) {
    synchronized (lock) {
      return withheld.contains(sidecarId);
    }
  }

  // ------------------------------------------------------------------ internals

  private boolean warmingUp() {
    return warmUpEnds != null && clock.instant().isBefore(warmUpEnds);
  }

  /** The set the sidecar is to hold: its computed one, or none while it is held back. */
  private AssignmentSet published(String sidecarId) {
    return withheld.contains(sidecarId) ? NO_SET : assignments.get(sidecarId);
  }

  /**
   * Hands out the held sets whose pipelines are now complete, or all of them once the window is
   * over; returns the ids released. A released set goes out like any change: pushed on the watch,
   * else in the next heartbeat reply (the sidecar reports version 0, which differs).
   */
  private List<String> release(Effects effects) {
    if (withheld.isEmpty()) {
      return List.of();
    }
    boolean windowOver = !warmingUp();
    List<String> released = new ArrayList<>();
    for (var it = withheld.iterator(); it.hasNext(); ) {
      String id = it.next();
      if (!windowOver && !plan.incompletePipelinesOf(id).isEmpty()) {
        continue;
      }
      it.remove();
      released.add(id);
      if (watchers.containsKey(id)) {
        effects
            .pushes
            .computeIfAbsent(id, k -> new ArrayList<>())
            .add(Command.newBuilder().setAssign(assignments.get(id)).build());
      }
    }
    return released;
  }

  /** Recomputes the plan and gives every sidecar whose assignments changed a new version. */
  private void replan(Effects effects) {
    replans++;
    plan =
        AssignmentPlanner.plan(
            pipelines.values(),
            registry.byId(),
            plan,
            settings.subsetSize(),
            pipelinesChanged ? null : lookAt());
    pipelinesChanged = false;
    // Only the sidecars the planner names can hold other assignments than before (and the ones
    // that changed themselves, which it names too): in a storm a registration costs what it
    // changes, not a look at every sidecar of the fleet.
    Collection<String> review =
        plan.changedSidecars()
            .<Collection<String>>map(ids -> new TreeSet<>(ids))
            .orElseGet(() -> registry.byId().keySet());
    unplanned.clear();
    heartbeatsOnly.clear();
    for (String id : review) {
      if (registry.get(id).isEmpty()) {
        continue; // gone: forget() dropped what it held
      }
      List<PipelineAssignment> wanted = plan.assignmentsFor(id);
      AssignmentSet current = assignments.get(id);
      if (current != null && sameMessages(current.getPipelinesList(), wanted)) {
        continue;
      }
      AssignmentSet next =
          AssignmentSet.newBuilder().setVersion(++nextVersion).addAllPipelines(wanted).build();
      assignments.put(id, next);
      effects.planChanged = true;
      // A held sidecar does not hold `current`: nothing to revoke, and release() sends the set.
      if (current == null || !watchers.containsKey(id) || withheld.contains(id)) {
        continue;
      }
      List<Command> commands = effects.pushes.computeIfAbsent(id, k -> new ArrayList<>());
      for (String revoked : revokedPipelines(current, next)) {
        commands.add(
            Command.newBuilder()
                .setRevoke(
                    RevokePipeline.newBuilder()
                        .setPipeline(revoked)
                        .setDrain(true)
                        .setReason("pipeline removed or no longer runs on this pod")
                        .setAssignmentVersion(next.getVersion()))
                .build());
      }
      commands.add(Command.newBuilder().setAssign(next).build());
    }
    release(effects);
  }

  /**
   * Compares by identity. The planner carries unchanged messages over as the same instances and
   * builds a new instance only when the content differs, so a held assignment is always an instance
   * of the latest plan: identity is as exact as {@code equals}, without walking every target of a
   * changed pipeline for every participant (quadratic during a registration storm). Were that ever
   * not so, the cost would be a set pushed with the same content, never a change missed.
   */
  private static boolean sameMessages(
      List<PipelineAssignment> held, List<PipelineAssignment> wanted) {
    if (held.size() != wanted.size()) {
      return false;
    }
    for (int i = 0; i < held.size(); i++) {
      if (held.get(i) != wanted.get(i)) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> revokedPipelines(AssignmentSet before, AssignmentSet after) {
    Set<String> revoked = new HashSet<>();
    before.getPipelinesList().forEach(p -> revoked.add(p.getPipeline()));
    after.getPipelinesList().forEach(p -> revoked.remove(p.getPipeline()));
    return revoked;
  }

  /** The sidecars a re-plan looks at: the changed ones and those that only heartbeated. */
  private Set<String> lookAt() {
    Set<String> ids = new HashSet<>(unplanned);
    ids.addAll(heartbeatsOnly);
    return Set.copyOf(ids);
  }

  /** Drops everything held for a sidecar that is gone. */
  private void forget(String sidecarId, Effects effects, String reason) {
    unplanned.add(sidecarId);
    AssignmentSet held = assignments.remove(sidecarId);
    if (held != null && held.getPipelinesCount() > 0) {
      // The plan lost a host even when no remaining sidecar's assignments change (it was the
      // last participant of its pipelines): observers must still hear of it.
      effects.planChanged = true;
    }
    pendingDrains.remove(sidecarId);
    withheld.remove(sidecarId);
    AssignmentSubscriber watcher = watchers.remove(sidecarId);
    if (watcher != null) {
      effects.closes.put(watcher, reason);
    }
    effects.pushes.remove(sidecarId);
    effects.sidecarChanged.add(sidecarId);
  }

  private List<Command> takePendingDrains(String sidecarId) {
    List<Command> drains = pendingDrains.remove(sidecarId);
    return drains == null ? List.of() : drains;
  }

  private PipelineDefinition withGeneration(PipelineDefinition definition) {
    PipelineDefinition previous = pipelines.get(definition.key());
    if (previous != null
        && !previous.sameSpec(definition)
        && definition.generation() <= previous.generation()) {
      return definition.withGeneration(previous.generation() + 1);
    }
    if (previous != null && previous.sameSpec(definition)) {
      return definition.withGeneration(Math.max(previous.generation(), definition.generation()));
    }
    return definition;
  }

  private void checkPipelineLimit(int count) {
    if (count > settings.maxPipelines()) {
      throw new IllegalStateException(
          "the router holds at most " + settings.maxPipelines() + " pipelines, asked for " + count);
    }
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  /** What a state change has to tell the outside world once the lock is released. */
  private final class Effects {
    final Map<String, List<Command>> pushes = new LinkedHashMap<>();
    final Map<AssignmentSubscriber, String> closes = new LinkedHashMap<>();
    final Set<String> sidecarChanged = new HashSet<>();
    boolean planChanged;

    /** Runs outside the lock. Subscribers are looked up under it, then called without it. */
    void deliver() {
      Map<AssignmentSubscriber, List<Command>> targets = new LinkedHashMap<>();
      RoutingPlan currentPlan;
      synchronized (lock) {
        pushes.forEach(
            (id, commands) -> {
              AssignmentSubscriber watcher = watchers.get(id);
              if (watcher != null && !commands.isEmpty()) {
                targets.put(watcher, commands);
              }
            });
        currentPlan = plan;
      }
      // The state change is committed: a failing callback must neither fail the caller (another
      // sidecar's RPC) nor keep the remaining subscribers and listeners from hearing of it. A
      // sidecar that missed a push catches up from its next heartbeat's version check.
      closes.forEach(
          (subscriber, reason) -> isolated("closing a watch", () -> subscriber.close(reason)));
      targets.forEach(
          (subscriber, commands) ->
              isolated("pushing to a watch", () -> subscriber.send(commands)));
      for (RouterListener listener : listeners) {
        sidecarChanged.forEach(
            id -> isolated("a router listener", () -> listener.sidecarChanged(id)));
        if (planChanged) {
          isolated("a router listener", () -> listener.planChanged(currentPlan));
        }
      }
    }

    private void isolated(String what, Runnable callback) {
      try {
        callback.run();
      } catch (RuntimeException e) {
        log.warn("{} failed; the router's state is unaffected", what, e);
      }
    }
  }
}

package io.conveyor.router.grpc;

import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.proto.delta.AssignmentDiff;
import io.conveyor.router.core.AssignmentSubscriber;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sidecar's WatchAssignments stream. Sends at once when the transport is ready; otherwise holds
 * the commands, coalescing assignment sets to the newest (a set replaces its predecessors whole),
 * so a stalled client costs at most one set and {@value #MAX_HELD_COMMANDS} drain/revoke commands.
 * Commands past that bound are dropped, counted in {@code
 * conveyor_router_watch_commands_dropped_total} and logged once per stall with their count (sixty
 * four unsent commands mean the sidecar has not read its stream for long); its newest set is still
 * kept, and a set is applied whole.
 *
 * <p>Sets are paced: after a set is sent, the next one waits until {@code minAssignInterval} has
 * passed, and whatever arrives meanwhile is coalesced to the newest. An isolated change still
 * reaches the sidecar at once; a burst of changes (a registration storm after a router restart,
 * where every registration changes every participant's targets) costs each sidecar one set per
 * interval instead of one per change. A set sent whole carries every target of the stages next to
 * the sidecar, so unpaced full sets cost bytes quadratic in the fleet; deltas (below) cost the
 * targets that changed, and the pacing still bounds their number. Other commands are never held
 * back by the pacing. A set that admits a new caller ({@link CallerGrants}) is paced ten times more
 * tightly: that caller has just been given this sidecar as a target and calls it at once, so its
 * grant goes out at once after a quiet moment (a restarted sidecar's first batches were refused
 * while it waited out the second), and at most ten a second in a storm under mutual TLS, where
 * every registration admits a caller somewhere (identities name pods). The comparison is with the
 * set last sent, which is what the sidecar holds; one whose delta failed and waits for a full set
 * may hold less, and its grant may then wait the full interval.
 *
 * <p>Sets go out in version order: pushes computed under the router's lock are delivered after it
 * is released, so two concurrent changes may hand their sets over in either order, and a set older
 * than one already sent is dropped here rather than sent for the sidecar to ignore.
 *
 * <p>Deltas: on the stream of a sidecar that accepts them, a set goes out as the changes from the
 * set this stream last sent (or the one the sidecar said it holds when it opened the stream), which
 * is what the sidecar holds if it applied everything sent — it checks the delta's base version and
 * asks for a full set when not. The first set of a stream, and any set whose delta would not be
 * smaller, goes whole. Coalescing is unchanged: the delta is computed when the newest set is
 * written, from the last one written, so the sets skipped in between cost nothing. It is computed
 * outside the lock, by the writer, like the serialization.
 *
 * <p>Threads: commands are taken under this stream's lock and written to the transport after it is
 * released, so a caller never waits on the monitor for another caller's serialization and write.
 * One thread writes at a time (the stream observer is not thread-safe, and two writers could pass
 * each other): whoever finds a writer busy leaves its commands held, and the writer takes them
 * before it stops, in the order they were taken.
 */
final class WatchStream implements AssignmentSubscriber {

  private static final Logger log = LoggerFactory.getLogger(WatchStream.class);

  /** Bound on held commands other than the newest assignment set. */
  static final int MAX_HELD_COMMANDS = 64;

  /**
   * A set that admits a caller waits {@code minAssignInterval} divided by this (100 ms of the
   * default second) after the previous set.
   */
  static final int GRANT_INTERVAL_DIVISOR = 10;

  /** Runs the delayed flush of a paced set. */
  @FunctionalInterface
  interface FlushScheduler {

    /**
     * Runs {@code task} once, after {@code delayNanos}.
     *
     * @throws RejectedExecutionException when the server is stopping
     */
    void schedule(Runnable task, long delayNanos);

    /**
     * Schedules on {@code timer} and runs the task on {@code flusher}: serializing a fleet-sized
     * set is work the timer thread must not do.
     */
    static FlushScheduler on(ScheduledExecutorService timer, Executor flusher) {
      return (task, delayNanos) ->
          timer.schedule(
              () -> {
                try {
                  flusher.execute(task);
                } catch (RejectedExecutionException e) {
                  // The server is stopping; the stream is about to be cancelled.
                }
              },
              delayNanos,
              TimeUnit.NANOSECONDS);
    }
  }

  private final String sidecarId;
  private final ServerCallStreamObserver<AssignmentUpdate> stream;
  private final FlushScheduler scheduler;
  private final LongSupplier nanoTime;
  private final long minAssignIntervalNanos;
  private final long grantIntervalNanos;
  private final Counter droppedCommands;
  private final boolean acceptsDeltas;
  private final RouterMetrics.Pushes pushes;

  private final Object lock = new Object();
  private final List<Command> held = new ArrayList<>();
  private Command newestAssign;
  private long sentVersion;

  /**
   * The set the sidecar holds if it applied all this stream sent: what the next delta is computed
   * from; null until a set went out or the sidecar said which one it holds.
   */
  private AssignmentSet sentSet;

  private long sentAssignAtNanos;

  /** {@link #admitsCaller}'s last answer, and the set and base it was for. */
  private Command grantCheckedFor;

  private AssignmentSet grantCheckedAgainst;
  private boolean grantPending;
  private boolean flushScheduled;
  private long flushDueNanos;
  private boolean closed;
  private String closeReason; // set by close(), taken once by the writer
  private boolean writing;
  private boolean writeFailed;
  private long droppedThisStall;

  /**
   * @param scheduler runs the delayed flush of a paced set
   * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime} in production)
   * @param minAssignInterval least time between two sets; zero disables the pacing
   * @param droppedCommands counts commands dropped past the bound on held commands
   * @param acceptsDeltas whether the sidecar applies deltas (its watch request said so)
   * @param pushes counts the sets sent whole and as deltas, and their bytes
   */
  WatchStream(
      String sidecarId,
      ServerCallStreamObserver<AssignmentUpdate> stream,
      FlushScheduler scheduler,
      LongSupplier nanoTime,
      Duration minAssignInterval,
      Counter droppedCommands,
      boolean acceptsDeltas,
      RouterMetrics.Pushes pushes) {
    this.sidecarId = sidecarId;
    this.stream = stream;
    this.scheduler = scheduler;
    this.nanoTime = nanoTime;
    this.minAssignIntervalNanos = minAssignInterval.toNanos();
    this.grantIntervalNanos = minAssignIntervalNanos / GRANT_INTERVAL_DIVISOR;
    this.droppedCommands = droppedCommands;
    this.acceptsDeltas = acceptsDeltas;
    this.pushes = pushes;
  }

  /**
   * The sidecar opened this stream holding {@code set} (its known version is the current one): the
   * first change can go as a delta from it. Ignored once the stream has sent a set.
   */
  @Override
  public void holds(AssignmentSet set) {
    synchronized (lock) {
      // Not sentVersion: that also starts the pacing, and nothing was sent yet.
      if (sentSet == null && set.getVersion() > sentVersion) {
        sentSet = set;
      }
    }
  }

  /**
   * A stream that takes deltas delivers every set; heartbeat replies leave sets to it, unless a
   * write to it failed or it ended: then what it took may be lost, and the replies carry sets
   * again.
   */
  @Override
  public boolean carriesSets() {
    synchronized (lock) {
      return acceptsDeltas && !writeFailed && !closed;
    }
  }

  @Override
  public void send(List<Command> commands) {
    int dropped = 0;
    synchronized (lock) {
      if (closed) {
        return; // the sidecar is gone or watches on a newer stream
      }
      for (Command command : commands) {
        if (command.hasAssign()) {
          long version = command.getAssign().getVersion();
          if (version > sentVersion
              && (sentSet == null || version > sentSet.getVersion())
              && (newestAssign == null || version > newestAssign.getAssign().getVersion())) {
            newestAssign = command;
          }
        } else if (held.size() < MAX_HELD_COMMANDS) {
          held.add(command);
        } else {
          dropped++;
        }
      }
      droppedThisStall += dropped;
    }
    if (dropped > 0) {
      droppedCommands.increment(dropped);
    }
    write();
  }

  /** Sends what is held if the transport can take it. Also the stream's on-ready handler. */
  void flush() {
    write();
  }

  @Override
  public void close(String reason) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      closeReason = reason;
    }
    write();
  }

  /**
   * The client cancelled the stream: nothing more will be written. Reports the commands dropped
   * during a stall that will now never end, and those still held.
   */
  void cancelled() {
    long dropped;
    synchronized (lock) {
      closed = true;
      closeReason = null;
      dropped = droppedThisStall + discardHeld();
      droppedThisStall = 0;
    }
    logDropped(dropped, "before the sidecar cancelled its watch");
  }

  /**
   * Empties what the ended stream will never send; returns the drain/revoke commands among it, for
   * they count as dropped (a set does not: the sidecar gets its current one when it watches again).
   * Caller holds the lock.
   */
  private int discardHeld() {
    int discarded = held.size();
    held.clear();
    newestAssign = null;
    if (discarded > 0) {
      droppedCommands.increment(discarded);
    }
    return discarded;
  }

  /** What the writer does next, decided under the lock and done outside it. */
  private record Write(
      List<Command> commands,
      AssignmentSet set,
      AssignmentSet base,
      String closeReason,
      long droppedThisStall) {}

  /**
   * Writes until nothing more is due; returns at once when another thread is writing (it takes what
   * this one left held before it stops: deciding and clearing {@code writing} is one step under the
   * lock).
   */
  private void write() {
    synchronized (lock) {
      if (writing) {
        return;
      }
      writing = true;
    }
    boolean done = false;
    try {
      while (true) {
        Write next;
        synchronized (lock) {
          next = takeNext();
          if (next == null) {
            writing = false;
            done = true;
            return;
          }
        }
        perform(next);
      }
    } finally {
      if (!done) { // the transport threw; whatever was taken is lost to this stream
        synchronized (lock) {
          writing = false;
          writeFailed = true;
        }
      }
    }
  }

  /**
   * The next write: what is due, then, once closed, the end of the stream (what was handed over
   * before {@link #close} still goes first when the transport takes it). Caller holds the lock.
   */
  private Write takeNext() {
    if (closed && closeReason == null) {
      return null; // ended, or cancelled by the client
    }
    boolean open = !stream.isCancelled() && stream.isReady();
    Write due = open ? takeDue() : null;
    if (due != null || !closed) {
      return due;
    }
    String reason = closeReason;
    closeReason = null;
    long dropped = droppedThisStall + discardHeld();
    droppedThisStall = 0;
    return new Write(null, null, null, reason, dropped);
  }

  /** Takes what may be sent now, or null. Caller holds the lock. */
  private Write takeDue() {
    long now = nanoTime.getAsLong();
    Command assign = newestAssign;
    if (assign != null && sentVersion != 0) { // versions start from the clock: 0 is "none yet"
      long wait = sentAssignAtNanos + minAssignIntervalNanos - now;
      if (wait > 0 && admitsCaller(assign)) {
        // A grant waits a tenth as long: at once after a quiet moment, and bounded in a storm.
        wait = sentAssignAtNanos + grantIntervalNanos - now;
      }
      if (wait > 0) {
        assign = null; // paced: goes out with the delayed flush, unless the stream ends first
        if (!closed) {
          scheduleFlush(wait);
        }
      }
    }
    if (held.isEmpty() && assign == null) {
      return null;
    }
    long dropped = 0;
    if (!held.isEmpty()) { // the held commands leave: a stall, if there was one, is over
      dropped = droppedThisStall;
      droppedThisStall = 0;
    }
    List<Command> commands = List.copyOf(held);
    held.clear();
    AssignmentSet set = null;
    AssignmentSet base = null;
    if (assign != null) {
      set = assign.getAssign();
      base = sentSet;
      newestAssign = null;
      sentVersion = set.getVersion();
      sentSet = set;
      sentAssignAtNanos = now;
    }
    return new Write(commands, set, base, null, dropped);
  }

  private void perform(Write write) {
    if (write.commands() != null) {
      AssignmentUpdate.Builder update =
          AssignmentUpdate.newBuilder().addAllCommands(write.commands());
      if (write.set() != null) {
        update.addCommands(encode(write.set(), write.base()));
      }
      stream.onNext(update.build());
      logDropped(write.droppedThisStall(), "while its watch stream was stalled");
    } else {
      logDropped(write.droppedThisStall(), "before its watch ended");
      if (!stream.isCancelled()) {
        stream.onError(
            Status.NOT_FOUND
                .withDescription("watch of sidecar " + sidecarId + " ended: " + write.closeReason())
                .asRuntimeException());
      }
    }
  }

  /**
   * The set as a delta from {@code base} when the sidecar takes one and it is smaller, else whole.
   */
  private Command encode(AssignmentSet set, AssignmentSet base) {
    Optional<AssignmentDelta> delta =
        acceptsDeltas && base != null && base.getVersion() != 0
            ? AssignmentDiff.between(base, set)
            : Optional.empty();
    if (delta.isPresent()) {
      pushes.delta(delta.get().getSerializedSize());
      return Command.newBuilder().setDelta(delta.get()).build();
    }
    pushes.full(set.getSerializedSize());
    return Command.newBuilder().setAssign(set).build();
  }

  private void logDropped(long dropped, String when) {
    if (dropped > 0) {
      log.warn(
          "dropped {} command(s) for sidecar {} {}: at most {} drain/revoke commands are held;"
              + " its newest assignment set was kept",
          dropped,
          sidecarId,
          when,
          MAX_HELD_COMMANDS);
    }
  }

  /**
   * Whether {@code assign} admits a caller the last set sent did not: decided once per pending set
   * and base (both change only when a set is taken or replaced), not on every pass of the writer.
   * Caller holds the lock.
   */
  private boolean admitsCaller(Command assign) {
    if (assign != grantCheckedFor || sentSet != grantCheckedAgainst) {
      grantCheckedFor = assign;
      grantCheckedAgainst = sentSet;
      grantPending = sentSet != null && CallerGrants.widens(sentSet, assign.getAssign());
    }
    return grantPending;
  }

  /**
   * Schedules a flush after {@code delayNanos}, unless one is due by then already (a grant may need
   * one sooner than the paced set it replaced). Caller holds the lock.
   */
  private void scheduleFlush(long delayNanos) {
    long due = nanoTime.getAsLong() + delayNanos;
    if (flushScheduled && due - flushDueNanos >= 0) {
      return;
    }
    flushScheduled = true;
    flushDueNanos = due;
    try {
      scheduler.schedule(this::delayedFlush, delayNanos);
    } catch (RejectedExecutionException e) {
      // The server is stopping; the stream is about to be cancelled.
      flushScheduled = false;
    }
  }

  private void delayedFlush() {
    synchronized (lock) {
      // A later flush still scheduled finds nothing due, or what became due meanwhile.
      flushScheduled = false;
    }
    try {
      write();
    } catch (RuntimeException e) {
      // Nobody else would see it; the sidecar catches up from its next heartbeat's reply, which
      // carries sets again once a write failed (see carriesSets).
      log.warn("delayed push to sidecar {} failed", sidecarId, e);
    }
  }
}

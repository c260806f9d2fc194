package io.conveyor.router.grpc;

import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.router.core.AssignmentSubscriber;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sidecar's WatchAssignments stream. Sends at once when the transport is ready; otherwise holds
 * the commands, coalescing assignment sets to the newest (a set replaces its predecessors whole),
 * so a stalled client costs at most one set and a few drain/revoke commands.
 *
 * <p>Sets are paced: after a set is sent, the next one waits until {@code minAssignInterval} has
 * passed, and whatever arrives meanwhile is coalesced to the newest. An isolated change still
 * reaches the sidecar at once; a burst of changes (a registration storm after a router restart,
 * where every registration changes every participant's targets) costs each sidecar one set per
 * interval instead of one per change. Sets carry every target, so unpaced pushes cost the router
 * bytes quadratic in the fleet per change. Other commands are never held back by the pacing.
 *
 * <p>Sets go out in version order: pushes computed under the router's lock are delivered after it
 * is released, so two concurrent changes may hand their sets over in either order, and a set older
 * than one already sent is dropped here rather than sent for the sidecar to ignore.
 */
final class WatchStream implements AssignmentSubscriber {

  private static final Logger log = LoggerFactory.getLogger(WatchStream.class);

  /** Bound on held commands other than the newest assignment set. */
  private static final int MAX_HELD_COMMANDS = 64;

  private final String sidecarId;
  private final ServerCallStreamObserver<AssignmentUpdate> stream;
  private final ScheduledExecutorService timer;
  private final Executor flusher;
  private final long minAssignIntervalNanos;
  private final List<Command> held = new ArrayList<>();
  private Command newestAssign;
  private long sentVersion;
  private long sentAssignAtNanos;
  private boolean flushScheduled;
  private boolean closed;

  /**
   * @param timer schedules the delayed flush of a paced set
   * @param flusher runs it: serializing a fleet-sized set is work the timer must not do
   * @param minAssignInterval least time between two sets; zero disables the pacing
   */
  WatchStream(
      String sidecarId,
      ServerCallStreamObserver<AssignmentUpdate> stream,
      ScheduledExecutorService timer,
      Executor flusher,
      Duration minAssignInterval) {
    this.sidecarId = sidecarId;
    this.stream = stream;
    this.timer = timer;
    this.flusher = flusher;
    this.minAssignIntervalNanos = minAssignInterval.toNanos();
  }

  @Override
  public synchronized void send(List<Command> commands) {
    if (closed) {
      return;
    }
    for (Command command : commands) {
      if (command.hasAssign()) {
        long version = command.getAssign().getVersion();
        if (version > sentVersion
            && (newestAssign == null || version > newestAssign.getAssign().getVersion())) {
          newestAssign = command;
        }
      } else if (held.size() < MAX_HELD_COMMANDS) {
        held.add(command);
      }
    }
    flush();
  }

  /** Sends what is held if the transport can take it. Also the stream's on-ready handler. */
  synchronized void flush() {
    if (closed || stream.isCancelled() || !stream.isReady()) {
      return;
    }
    long now = System.nanoTime();
    Command assign = newestAssign;
    if (assign != null && sentVersion != 0) { // versions start from the clock: 0 is "none yet"
      long wait = sentAssignAtNanos + minAssignIntervalNanos - now;
      if (wait > 0) {
        assign = null; // paced: goes out with the delayed flush
        scheduleFlush(wait);
      }
    }
    if (held.isEmpty() && assign == null) {
      return;
    }
    AssignmentUpdate.Builder update = AssignmentUpdate.newBuilder().addAllCommands(held);
    held.clear();
    if (assign != null) {
      update.addCommands(assign);
      newestAssign = null;
      sentVersion = assign.getAssign().getVersion();
      sentAssignAtNanos = now;
    }
    stream.onNext(update.build());
  }

  private void scheduleFlush(long delayNanos) {
    if (flushScheduled) {
      return;
    }
    flushScheduled = true;
    try {
      timer.schedule(
          () -> {
            try {
              flusher.execute(this::delayedFlush);
            } catch (RejectedExecutionException e) {
              // The server is stopping; the stream is about to be cancelled.
            }
          },
          delayNanos,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The server is stopping; the stream is about to be cancelled.
      flushScheduled = false;
    }
  }

  private synchronized void delayedFlush() {
    flushScheduled = false;
    try {
      flush();
    } catch (RuntimeException e) {
      // Nobody else would see it; the sidecar catches up from its next heartbeat's reply.
      log.warn("delayed push to sidecar {} failed", sidecarId, e);
    }
  }

  @Override
  public synchronized void close(String reason) {
    if (closed) {
      return;
    }
    closed = true;
    if (!stream.isCancelled()) {
      stream.onError(
          Status.NOT_FOUND
              .withDescription("watch of sidecar " + sidecarId + " ended: " + reason)
              .asRuntimeException());
    }
  }
}

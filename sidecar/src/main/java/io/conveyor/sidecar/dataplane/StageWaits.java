package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.RoutingTable;
import io.conveyor.sidecar.routing.StageRoute;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Chunks bound for a stage that no sidecar runs yet — its pod not registered yet, or between a
 * restart and its re-registration — wait here for the routing table to list an instance, and go on
 * along the new route as soon as it does. Failing them at once instead had their sources re-send
 * them at once, in a busy loop, until the stage's pod registered.
 *
 * <p>The table changes with the router's assignment sets and with discovery (the pod's own
 * services); every change is checked against the chunks waiting, on the sidecar's timer. No thread
 * waits.
 *
 * <p>Bounded in time: a wait ends at its batch's deadline at the latest (the pipeline's batch
 * timeout, or what a forwarding sidecar's deadline leaves), its records failed retryably for a
 * reason that names the stage and the wait; and at once, failed the same way, when the pipeline
 * leaves the routing table or its stage at that index changes, when the batch is aborted, and when
 * the sidecar drains ({@link #stop}). Bounded in number by what the sidecar admits: every wait is
 * part of a batch that holds a push credit or counts against the in-flight bytes.
 */
final class StageWaits {

  private final Supplier<RoutingTable> table;
  private final ScheduledExecutorService timer;
  private final LongSupplier nanoTime;
  private final Set<Wait> waits = ConcurrentHashMap.newKeySet();

  /** Why waits are no longer taken; null while they are. */
  private volatile String stopped;

  /**
   * @param table the routing table now
   * @param timer runs the deadlines and the checks after a change of the table
   * @param nanoTime the clock batch deadlines are read on
   */
  StageWaits(Supplier<RoutingTable> table, ScheduledExecutorService timer, LongSupplier nanoTime) {
    this.table = table;
    this.timer = timer;
    this.nanoTime = nanoTime;
  }

  /**
   * Waits for an instance of {@code chunk}'s stage, then runs {@code resume} with the chunk on the
   * route that lists it and completes with its outcome; or completes with every record failed
   * retryably. The future fails only when {@code resume} does.
   */
  CompletableFuture<BatchOutcome> await(
      ChunkDelivery chunk, Function<ChunkDelivery, CompletableFuture<BatchOutcome>> resume) {
    chunk.meters().waitedForStage();
    Wait wait = new Wait(chunk, resume);
    String stoppedNow = stopped;
    long remaining = chunk.batch().deadlineNanos() - wait.startedNanos;
    if (stoppedNow != null) {
      wait.fail(noInstance(chunk) + "; " + stoppedNow);
      return wait.done;
    }
    if (remaining <= 0) {
      wait.fail(noInstance(chunk) + " and the batch deadline passed");
      return wait.done;
    }
    waits.add(wait);
    chunk.batch().track(wait);
    try {
      wait.deadline = timer.schedule(wait::expire, remaining, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      wait.fail(noInstance(chunk) + "; the sidecar is closing");
      return wait.done;
    }
    if (wait.left.get()) {
      wait.deadline.cancel(false); // aborted before the deadline was set: leave() missed it
    }
    // The table may have changed, or the waits stopped, since the caller looked.
    check(wait, table.get());
    return wait.done;
  }

  /** The routing table changed: the chunks whose stage has an instance now go on. */
  void tableChanged() {
    if (waits.isEmpty()) {
      return;
    }
    try {
      timer.execute(this::checkAll);
    } catch (RejectedExecutionException closing) {
      checkAll();
    }
  }

  /**
   * Fails every chunk waiting, and from now on every chunk that would wait, for {@code reason}: the
   * sidecar drains, and a batch it holds for a stage nobody runs would only hold up its stop.
   * Returns how many waits were ended.
   */
  int stop(String reason) {
    stopped = reason;
    int ended = 0;
    for (Wait wait : waits) {
      if (wait.fail(noInstance(wait.chunk) + "; " + reason)) {
        ended++;
      }
    }
    return ended;
  }

  /** Chunks waiting for an instance of their stage. */
  int waiting() {
    return waits.size();
  }

  private void checkAll() {
    RoutingTable now = table.get();
    for (Wait wait : waits) {
      check(wait, now);
    }
  }

  private void check(Wait wait, RoutingTable now) {
    String stoppedNow = stopped;
    if (stoppedNow != null) {
      wait.fail(noInstance(wait.chunk) + "; " + stoppedNow);
      return;
    }
    ChunkDelivery chunk = wait.chunk;
    StageRoute waitingFor = chunk.stage();
    Optional<PipelineRoute> route = now.pipeline(chunk.route().pipeline());
    if (route.isEmpty()) {
      wait.fail(
          noInstance(chunk)
              + " and pipeline '"
              + chunk.route().pipeline()
              + "' is no longer assigned to this sidecar");
      return;
    }
    PipelineRoute r = route.get();
    StageRoute stage = r.hasStage(waitingFor.index()) ? r.stage(waitingFor.index()) : null;
    if (stage == null
        || !stage.name().equals(waitingFor.name())
        || stage.role() != waitingFor.role()) {
      wait.fail(
          noInstance(chunk)
              + " and pipeline '"
              + r.pipeline()
              + "' changed: its stage "
              + waitingFor.index()
              + " is "
              + (stage == null ? "gone" : "'" + stage.name() + "' now"));
      return;
    }
    if (!stage.unreachable()) {
      wait.resume(r, stage);
    }
  }

  private static String noInstance(ChunkDelivery chunk) {
    return "no sidecar runs stage '"
        + chunk.stage().name()
        + "' of pipeline "
        + chunk.route().pipeline();
  }

  /** One chunk waiting; leaves the wait exactly once: resumed, failed or aborted. */
  private final class Wait implements Runnable {

    private final ChunkDelivery chunk;
    private final Function<ChunkDelivery, CompletableFuture<BatchOutcome>> resume;
    private final long startedNanos = nanoTime.getAsLong();
    private final AtomicBoolean left = new AtomicBoolean();
    private final CompletableFuture<BatchOutcome> done = new CompletableFuture<>();
    private volatile ScheduledFuture<?> deadline;

    Wait(ChunkDelivery chunk, Function<ChunkDelivery, CompletableFuture<BatchOutcome>> resume) {
      this.chunk = chunk;
      this.resume = resume;
    }

    /** The batch deadline passed. */
    void expire() {
      fail(
          noInstance(chunk)
              + ": waited "
              + TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - startedNanos)
              + " ms for one to register, until the batch deadline");
    }

    /** The batch was aborted (a revoke without drain): the records fail for the abort's reason. */
    @Override
    public void run() {
      if (leave()) {
        chunk.abandonAll();
        answer();
      }
    }

    /** Every record fails retryably for {@code message}; false when the wait was over already. */
    boolean fail(String message) {
      if (!leave()) {
        return false;
      }
      chunk.failAll(FailureKind.FAILURE_KIND_RETRYABLE, message);
      answer();
      return true;
    }

    /** An instance of the stage appeared: the chunk goes on along {@code route}. */
    void resume(PipelineRoute route, StageRoute stage) {
      if (!leave()) {
        return;
      }
      ChunkDelivery resumed =
          new ChunkDelivery(chunk.batch(), route, stage, chunk.records(), chunk.meters());
      try {
        resume
            .apply(resumed)
            .whenComplete(
                (outcome, error) -> {
                  if (error == null) {
                    done.complete(outcome);
                  } else {
                    done.completeExceptionally(error);
                  }
                });
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
      }
    }

    private void answer() {
      chunk.meters().outcome(RecordOutcome.RECORD_OUTCOME_FAILED, chunk.size());
      done.complete(chunk.outcome());
    }

    private boolean leave() {
      if (!left.compareAndSet(false, true)) {
        return false;
      }
      waits.remove(this);
      chunk.batch().untrack(this);
      ScheduledFuture<?> scheduled = deadline;
      if (scheduled != null) {
        scheduled.cancel(false);
      }
      return true;
    }
  }
}

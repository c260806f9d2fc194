package io.conveyor.sidecar.dataplane;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs stage calls again once their backoff passed, on the sidecar's timer; no thread waits. The
 * calls waiting are counted: the queue depth the sidecar reports to the router. A batch aborted
 * meanwhile stops its retries waiting at once.
 */
final class RetryTimer {

  private final ScheduledExecutorService timer;
  private final AtomicInteger waiting = new AtomicInteger();

  RetryTimer(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /**
   * Runs {@code retry} after {@code delay}, or at once when {@code batch} is aborted first; the
   * retry then finds the batch aborted and fails its records instead of calling.
   */
  void schedule(BatchRun batch, Duration delay, Runnable retry) {
    WaitingRetry entry = new WaitingRetry(batch, retry);
    waiting.incrementAndGet();
    try {
      entry.scheduled = timer.schedule(entry::due, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException stopped) {
      // The sidecar is closing and its timer stopped: try now rather than never, so the batch is
      // still answered (its call fails fast on the closing channels, and its records retryably).
      entry.due();
      return;
    }
    batch.track(entry);
  }

  /** Stage calls waiting for their backoff to pass. */
  int waiting() {
    return waiting.get();
  }

  /** One retry waiting; leaves the wait exactly once, by its timer or by its batch's abort. */
  private final class WaitingRetry implements Runnable {

    private final BatchRun batch;
    private final Runnable retry;
    private final AtomicBoolean left = new AtomicBoolean();
    private volatile ScheduledFuture<?> scheduled;

    WaitingRetry(BatchRun batch, Runnable retry) {
      this.batch = batch;
      this.retry = retry;
    }

    /** The backoff passed. */
    void due() {
      if (leave()) {
        batch.untrack(this);
        retry.run();
      }
    }

    /** The batch was aborted: stop waiting. */
    @Override
    public void run() {
      if (leave()) {
        scheduled.cancel(false);
        retry.run();
      }
    }

    private boolean leave() {
      if (!left.compareAndSet(false, true)) {
        return false;
      }
      waiting.decrementAndGet();
      return true;
    }
  }
}

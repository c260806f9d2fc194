package io.conveyor.sidecar.dataplane;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs stage calls again once their backoff passed, on the sidecar's timer; no thread waits. The
 * calls waiting are counted: the queue depth the sidecar reports to the router.
 */
final class RetryTimer {

  private final ScheduledExecutorService timer;
  private final AtomicInteger waiting = new AtomicInteger();

  RetryTimer(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  void schedule(Duration delay, Runnable retry) {
    waiting.incrementAndGet();
    timer.schedule(
        () -> {
          waiting.decrementAndGet();
          retry.run();
        },
        delay.toNanos(),
        TimeUnit.NANOSECONDS);
  }

  /** Stage calls waiting for their backoff to pass. */
  int waiting() {
    return waiting.get();
  }
}

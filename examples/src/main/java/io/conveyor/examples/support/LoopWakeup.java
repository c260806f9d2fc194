package io.conveyor.examples.support;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one pending wake-up of a driver's loop (a paced send, a due re-send): asking for an earlier
 * time replaces a later wake-up, asking for a later one keeps the earlier. Used on the loop thread
 * only.
 */
public final class LoopWakeup {

  private final ScheduledExecutorService loop;
  private final Runnable task;
  private ScheduledFuture<?> wake;
  private long wakeAt;

  public LoopWakeup(ScheduledExecutorService loop, Runnable task) {
    this.loop = loop;
    this.task = task;
  }

  /** Runs the task at {@code at} ({@link System#nanoTime()} scale) unless a wake-up comes first. */
  public void at(long at, long now) {
    if (wake != null && !wake.isDone() && wakeAt <= at) {
      return;
    }
    if (wake != null) {
      wake.cancel(false);
    }
    wakeAt = at;
    wake =
        LoopExecutors.scheduleUnlessStopped(
            () -> loop.schedule(task, Math.max(0, at - now), TimeUnit.NANOSECONDS));
  }
}

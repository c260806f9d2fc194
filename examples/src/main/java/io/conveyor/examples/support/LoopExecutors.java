package io.conveyor.examples.support;

import io.conveyor.common.concurrent.DaemonThreads;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The single-thread loop that owns a driver's state. */
public final class LoopExecutors {

  private LoopExecutors() {}

  /**
   * One daemon thread. On shutdown, pending delayed tasks (a reconnect, a wake-up) are dropped
   * rather than waited for, and cancelled tasks leave the queue at once.
   */
  public static ScheduledExecutorService newLoop(String threadName) {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.named(threadName));
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /** Schedules on a loop that may have been stopped meanwhile; null when it was. */
  public static ScheduledFuture<?> scheduleUnlessStopped(Supplier<ScheduledFuture<?>> scheduling) {
    try {
      return scheduling.get();
    } catch (RejectedExecutionException stopped) {
      return null;
    }
  }

  /**
   * Runs {@code lastTask} on the loop, then stops it: waits up to two seconds for the loop to
   * finish what it is doing, then interrupts it. Does nothing when the loop is already stopped.
   */
  public static void stop(ScheduledExecutorService loop, Runnable lastTask) {
    try {
      loop.execute(lastTask);
    } catch (RejectedExecutionException alreadyStopped) {
      return;
    }
    loop.shutdown();
    try {
      if (!loop.awaitTermination(2, TimeUnit.SECONDS)) {
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      loop.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}

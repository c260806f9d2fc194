package io.conveyor.examples.support;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** The single-thread loop that owns a driver's state. */
public final class LoopExecutors {

  private LoopExecutors() {}

  /**
   * One daemon thread. On shutdown, pending delayed tasks (a reconnect, a wake-up) are dropped
   * rather than waited for, and cancelled tasks leave the queue at once.
   */
  public static ScheduledExecutorService newLoop(String threadName) {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, threadName);
              thread.setDaemon(true);
              return thread;
            });
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }
}

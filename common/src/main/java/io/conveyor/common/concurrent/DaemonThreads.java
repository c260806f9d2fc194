package io.conveyor.common.concurrent;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the processes' background work: daemon threads (they never keep a JVM alive
 * on their own; every process stops them explicitly on shutdown) with names that say their role in
 * a thread dump.
 */
public final class DaemonThreads {

  private DaemonThreads() {}

  /** Every thread is called {@code name}: for single-threaded executors. */
  public static ThreadFactory named(String name) {
    return runnable -> daemon(runnable, name);
  }

  /** Threads called {@code prefix-1}, {@code prefix-2}, ...: for pools. */
  public static ThreadFactory numbered(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> daemon(runnable, prefix + "-" + count.incrementAndGet());
  }

  /** A single-threaded scheduler on a daemon thread called {@code name}. */
  public static ScheduledExecutorService scheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(named(name));
  }

  private static Thread daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    return thread;
  }
}

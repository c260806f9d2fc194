package io.conveyor.sidecar.discovery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler whose tasks run only when the test says so, on the test's thread: every interleaving
 * of scheduled scans and requests can be played deterministically.
 */
public final class ManualScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {

  /** One scheduled task. */
  public final class Task implements ScheduledFuture<Object> {
    private final Runnable body;
    private final long delayMillis;
    private final long sequence;
    private boolean cancelled;
    private boolean started;

    private Task(Runnable body, long delayMillis, long sequence) {
      this.body = body;
      this.delayMillis = delayMillis;
      this.sequence = sequence;
    }

    public long delayMillis() {
      return delayMillis;
    }

    /** Runs it, as the scheduler thread would. */
    public void run() {
      synchronized (ManualScheduler.this) {
        if (cancelled || started) {
          throw new IllegalStateException("task already cancelled or run");
        }
        started = true;
      }
      body.run();
    }

    /**
     * Runs it although it was cancelled: what happens when the scheduler thread had already taken
     * it from the queue when {@code cancel(false)} came (cancel cannot stop a task that started).
     */
    void runAlthoughCancelled() {
      synchronized (ManualScheduler.this) {
        started = true;
      }
      body.run();
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(delayMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      synchronized (ManualScheduler.this) {
        if (started || cancelled) {
          return false;
        }
        cancelled = true;
        return true;
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (ManualScheduler.this) {
        return cancelled;
      }
    }

    @Override
    public boolean isDone() {
      synchronized (ManualScheduler.this) {
        return cancelled || started;
      }
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }
  }

  private final List<Task> tasks = new ArrayList<>();
  private long sequence;

  /** Tasks neither run nor cancelled, soonest first. */
  public synchronized List<Task> pending() {
    return tasks.stream()
        .filter(t -> !t.cancelled && !t.started)
        .sorted(
            Comparator.comparingLong((Task t) -> t.delayMillis).thenComparingLong(t -> t.sequence))
        .toList();
  }

  /** Every task scheduled so far, in scheduling order. */
  synchronized List<Task> all() {
    return List.copyOf(tasks);
  }

  /** Runs the soonest pending task; returns it. */
  public Task runNext() {
    List<Task> pending = pending();
    if (pending.isEmpty()) {
      throw new IllegalStateException("nothing scheduled");
    }
    Task next = pending.get(0);
    next.run();
    return next;
  }

  @Override
  public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    Task task = new Task(command, unit.toMillis(delay), sequence++);
    tasks.add(task);
    return task;
  }

  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.MILLISECONDS);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void shutdown() {}

  @Override
  public List<Runnable> shutdownNow() {
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return false;
  }

  @Override
  public boolean isTerminated() {
    return false;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }
}

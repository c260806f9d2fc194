package io.conveyor.sidecar.dataplane;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches and bytes the sidecar holds, against its limit. Calls from other sidecars are refused
 * past the limit ({@link #tryAcquire}); source batches are always admitted — their number is
 * already bounded by the credits granted — and push backpressure in when the total crosses the high
 * watermark (the limit) until it falls under the low one (half of it).
 */
public final class InFlight {

  private final long limitBytes;
  private final long lowWatermarkBytes;
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicInteger batches = new AtomicInteger();
  private final Object idle = new Object();

  public InFlight(long limitBytes) {
    this.limitBytes = limitBytes;
    this.lowWatermarkBytes = limitBytes / 2;
  }

  /** Admits a batch if it fits under the limit (a lone batch always fits, to make progress). */
  public boolean tryAcquire(long size) {
    while (true) {
      long current = bytes.get();
      if (current > 0 && current + size > limitBytes) {
        return false;
      }
      if (bytes.compareAndSet(current, current + size)) {
        batches.incrementAndGet();
        return true;
      }
    }
  }

  /** Admits a batch regardless of the limit; returns true when the total is now over it. */
  public boolean acquire(long size) {
    batches.incrementAndGet();
    return bytes.addAndGet(size) > limitBytes;
  }

  /** Releases a batch; returns true when the total is now under the low watermark. */
  public boolean release(long size) {
    long now = bytes.addAndGet(-size);
    if (batches.decrementAndGet() == 0) {
      synchronized (idle) {
        idle.notifyAll();
      }
    }
    return now <= lowWatermarkBytes;
  }

  public boolean overLimit() {
    return bytes.get() > limitBytes;
  }

  public boolean underLowWatermark() {
    return bytes.get() <= lowWatermarkBytes;
  }

  public long bytes() {
    return bytes.get();
  }

  public int batches() {
    return batches.get();
  }

  public long limitBytes() {
    return limitBytes;
  }

  /** Waits until nothing is in flight, or the timeout passed; returns true when idle. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (batches.get() > 0) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(idle, remaining);
      }
      return true;
    }
  }
}

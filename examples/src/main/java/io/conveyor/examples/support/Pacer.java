package io.conveyor.examples.support;

/**
 * Spaces batch sends to a {@link SendRate}. Pure: the caller passes the time. A driver that falls
 * behind may catch up by at most one batch interval, never by a burst.
 */
public final class Pacer {

  private final SendRate rate;
  private long nextAt;
  private boolean started;

  public Pacer(SendRate rate) {
    this.rate = rate;
  }

  /** Nanoseconds to wait before the next batch may go; 0 when it may go now. */
  public long waitNanos(long now) {
    if (!rate.limited() || !started) {
      return 0;
    }
    return Math.max(0, nextAt - now);
  }

  /** Notes that a batch of {@code records} records was sent at {@code now}. */
  public void sent(long now, int records) {
    if (!rate.limited()) {
      return;
    }
    long interval = rate.nanosFor(records);
    long base = started ? Math.max(nextAt, now - interval) : now;
    nextAt = base + interval;
    started = true;
  }
}

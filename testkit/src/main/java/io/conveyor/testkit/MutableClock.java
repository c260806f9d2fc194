package io.conveyor.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.function.LongSupplier;

/**
 * A clock tests move by hand, so that expiry, pacing and versions never depend on real time. It
 * serves both as a {@link Clock} (wall time) and, through {@link #nanoTime()}, as the monotonic
 * {@code System::nanoTime}-style source that pacing and backoff code takes as a {@link
 * LongSupplier}; both move together.
 */
public final class MutableClock extends Clock {

  /** A fixed start, so that timestamps in test output are the same on every run. */
  public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  private volatile Instant now;

  public MutableClock() {
    this(START);
  }

  public MutableClock(Instant start) {
    this.now = start;
  }

  /**
   * A clock that starts at the real time (to the second), for tests whose objects meet real
   * timestamps written by other parts, such as a Lease's renew time on the mock API server.
   */
  public static MutableClock startingNow() {
    return new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  }

  public void advance(Duration by) {
    now = now.plus(by);
  }

  /** Nanoseconds since {@link #START}: a monotonic reading that moves with {@link #advance}. */
  public long nanoTime() {
    Duration since = Duration.between(START, now);
    return since.toNanos();
  }

  /** This clock as a {@code System::nanoTime} replacement. */
  public LongSupplier nanos() {
    return this::nanoTime;
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /** Always UTC: the zone does not matter to the code under test, only the instant. */
  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}

package io.conveyor.common.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter: attempt {@code n} (0-based) waits a random time in {@code [base
 * * (1 - jitter), base]} where {@code base = min(max, initial * multiplier^n)}.
 *
 * <p>The random source is passed in so that tests can fix the seed; jitter spreads the retries of
 * many sidecars that lost the same router at the same moment.
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {

  public Backoff {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial backoff must be positive, got " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max backoff " + max + " is below initial " + initial);
    }
    if (multiplier < 1.0) {
      throw new IllegalArgumentException("multiplier must be at least 1, got " + multiplier);
    }
    if (jitter < 0.0 || jitter > 1.0) {
      throw new IllegalArgumentException("jitter must be in [0, 1], got " + jitter);
    }
  }

  /** The delay before retry number {@code attempt} (0 for the first retry). */
  public Duration delay(int attempt, RandomGenerator random) {
    double base = initial.toNanos() * Math.pow(multiplier, Math.max(0, attempt));
    double capped = Math.min(base, max.toNanos());
    double factor = 1.0 - jitter * random.nextDouble();
    return Duration.ofNanos(Math.max(1L, (long) (capped * factor)));
  }
}

package io.conveyor.identity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When a sidecar renews its certificate: at half its lifetime, moved by a random jitter of up to
 * {@link #DEFAULT_JITTER} of the lifetime either way, so that sidecars enrolled together (a
 * rollout, a CA restart) do not all come back to the CA in the same second. The jitter is drawn
 * once, when the schedule is made for a certificate, so asking again gives the same answer.
 *
 * <p>Renewing at half-life leaves the other half to retry in when the CA is down: with the 24 h
 * default, about 10 hours at the earliest jitter.
 */
public final class RenewalSchedule {

  /** The jitter bound, as a fraction of the lifetime. */
  public static final double DEFAULT_JITTER = 0.10;

  private final Clock clock;
  private final Instant notAfter;
  private final Instant renewAt;

  private RenewalSchedule(Clock clock, Instant notAfter, Instant renewAt) {
    this.clock = clock;
    this.notAfter = notAfter;
    this.renewAt = renewAt;
  }

  public static RenewalSchedule forValidity(
      Instant notBefore, Instant notAfter, Clock clock, RandomGenerator random) {
    return forValidity(notBefore, notAfter, clock, random, DEFAULT_JITTER);
  }

  /**
   * @param jitter a fraction of the lifetime in [0, 0.5): at 0.5 a renewal could fall on the
   *     certificate's first or last instant
   * @throws IllegalArgumentException when the validity is empty or the jitter out of bounds
   */
  public static RenewalSchedule forValidity(
      Instant notBefore, Instant notAfter, Clock clock, RandomGenerator random, double jitter) {
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException(
          "certificate validity is empty: not before " + notBefore + ", not after " + notAfter);
    }
    if (!(jitter >= 0 && jitter < 0.5)) {
      throw new IllegalArgumentException("renewal jitter must be in [0, 0.5), was " + jitter);
    }
    long lifetimeMillis = Duration.between(notBefore, notAfter).toMillis();
    long maxJitterMillis = (long) (lifetimeMillis * jitter);
    long offsetMillis =
        maxJitterMillis == 0 ? 0 : random.nextLong(-maxJitterMillis, maxJitterMillis + 1);
    Instant renewAt = notBefore.plusMillis(lifetimeMillis / 2 + offsetMillis);
    return new RenewalSchedule(clock, notAfter, renewAt);
  }

  /** When to renew. */
  public Instant renewAt() {
    return renewAt;
  }

  /** True from {@link #renewAt()} on, expired or not: renew now. */
  public boolean isDue() {
    return !clock.instant().isBefore(renewAt);
  }

  /** How long until renewal is due; zero once it is. */
  public Duration untilRenewal() {
    return nonNegative(Duration.between(clock.instant(), renewAt));
  }

  /** True after the certificate's last valid instant (X.509 notAfter is inclusive). */
  public boolean isExpired() {
    return clock.instant().isAfter(notAfter);
  }

  /** How long the certificate stays valid; zero once expired. */
  public Duration timeLeft() {
    return nonNegative(Duration.between(clock.instant(), notAfter));
  }

  private static Duration nonNegative(Duration duration) {
    return duration.isNegative() ? Duration.ZERO : duration;
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.common.retry.Backoff;
import io.conveyor.sidecar.routing.Delivery;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * After a stage call failed for some records: try them again after a backoff, or give up. One
 * policy for the pod's own services and for other sidecars, in the manner of Kafka Connect's {@code
 * RetryWithToleranceOperator}: the decision follows from the attempt number, the pipeline's {@code
 * maxRetries} and retry backoff, and the time left before the batch deadline, read from an injected
 * clock. Pure apart from that clock and the jitter's random source.
 */
final class RetryPolicy {

  /** No single wait is longer than this, whatever the pipeline's backoff. */
  private static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(10);

  /** What to do with the records a failed attempt left without an outcome. */
  sealed interface Decision permits RetryAfter, GiveUp {}

  /** Call again once {@code delay} has passed. */
  record RetryAfter(Duration delay) implements Decision {}

  /** Stop: the records fail retryably (their source re-sends them) for {@code reason}. */
  record GiveUp(String reason) implements Decision {

    /** The reason followed by the last error the stage gave, when there is one. */
    String because(String lastError) {
      return lastError == null ? reason : reason + ": " + lastError;
    }
  }

  private final int maxRetries;
  private final Backoff backoff;
  private final LongSupplier nanoTime;
  private final Supplier<? extends RandomGenerator> random;

  /**
   * @param nanoTime the clock deadlines are read on ({@code System::nanoTime} in production)
   * @param random the jitter's source; a supplier so that each thread can use its own generator
   */
  RetryPolicy(
      Delivery delivery, LongSupplier nanoTime, Supplier<? extends RandomGenerator> random) {
    this.maxRetries = delivery.maxRetries();
    this.backoff = backoff(delivery.retryBackoff());
    this.nanoTime = nanoTime;
    this.random = random;
  }

  /**
   * Decides after attempt number {@code attempt} (0 for the first call) failed for some records. A
   * retry is allowed while retries remain and its backoff ends before {@code deadlineNanos} (a
   * reading of this policy's clock); otherwise the reason says which limit was hit, the deadline
   * first.
   */
  Decision afterFailedAttempt(int attempt, long deadlineNanos) {
    Duration delay = backoff.delay(attempt, random.get());
    boolean timeLeft = deadlineNanos - nanoTime.getAsLong() > delay.toNanos();
    if (attempt < maxRetries && timeLeft) {
      return new RetryAfter(delay);
    }
    return new GiveUp(
        timeLeft ? "gave up after " + (attempt + 1) + " attempts" : "batch deadline reached");
  }

  /** Doubling from the pipeline's retry backoff, capped at 64 times it or 10 s, jitter 50%. */
  static Backoff backoff(Duration initial) {
    Duration cap = initial.multipliedBy(64);
    if (cap.compareTo(MAX_RETRY_DELAY) > 0) {
      cap = MAX_RETRY_DELAY.compareTo(initial) > 0 ? MAX_RETRY_DELAY : initial;
    }
    return new Backoff(initial, cap, 2.0, 0.5);
  }
}

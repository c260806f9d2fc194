package io.conveyor.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.sidecar.routing.Delivery;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The retry decision, on a clock the test moves and a jitter fixed at none. */
class RetryPolicyTest {

  /** nextDouble() of 0 takes no jitter off: every delay is the full exponential step. */
  private static final RandomGenerator NO_JITTER = () -> 0L;

  private final MutableClock clock = new MutableClock();

  private RetryPolicy policy(int maxRetries, Duration backoff) {
    return new RetryPolicy(
        new Delivery(100, maxRetries, backoff, Duration.ofSeconds(30)),
        clock.nanos(),
        () -> NO_JITTER);
  }

  private long deadlineIn(Duration left) {
    return clock.nanoTime() + left.toNanos();
  }

  @Test
  void retriesWithDoublingDelaysUntilTheRetriesAreUsedUp() {
    RetryPolicy policy = policy(3, Duration.ofMillis(100));
    long deadline = deadlineIn(Duration.ofMinutes(1));

    assertThat(policy.afterFailedAttempt(0, deadline))
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofMillis(100)));
    assertThat(policy.afterFailedAttempt(1, deadline))
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofMillis(200)));
    assertThat(policy.afterFailedAttempt(2, deadline))
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofMillis(400)));
    assertThat(policy.afterFailedAttempt(3, deadline))
        .isEqualTo(new RetryPolicy.GiveUp("gave up after 4 attempts"));
  }

  @Test
  void noRetriesMeansTheFirstFailureIsFinal() {
    assertThat(
            policy(0, Duration.ofMillis(5)).afterFailedAttempt(0, deadlineIn(Duration.ofDays(1))))
        .isEqualTo(new RetryPolicy.GiveUp("gave up after 1 attempts"));
  }

  @Test
  void aRetryWhoseBackoffWouldEndPastTheDeadlineIsNotTaken() {
    RetryPolicy policy = policy(10, Duration.ofMillis(100));
    long deadline = deadlineIn(Duration.ofMillis(500));

    assertThat(policy.afterFailedAttempt(1, deadline))
        .as("200 ms of backoff with 500 ms left")
        .isInstanceOf(RetryPolicy.RetryAfter.class);

    clock.advance(Duration.ofMillis(300));
    assertThat(policy.afterFailedAttempt(1, deadline))
        .as("200 ms of backoff with exactly 200 ms left: the retry could not answer in time")
        .isEqualTo(new RetryPolicy.GiveUp("batch deadline reached"));

    clock.advance(Duration.ofSeconds(1));
    assertThat(policy.afterFailedAttempt(0, deadline))
        .as("past the deadline")
        .isEqualTo(new RetryPolicy.GiveUp("batch deadline reached"));
  }

  @Test
  void theDeadlineIsNamedEvenWhenTheRetriesAreAlsoUsedUp() {
    RetryPolicy policy = policy(1, Duration.ofMillis(100));
    long deadline = deadlineIn(Duration.ofMillis(50));
    assertThat(policy.afterFailedAttempt(1, deadline))
        .isEqualTo(new RetryPolicy.GiveUp("batch deadline reached"));
  }

  @Test
  void delaysAreCappedAtTenSecondsOrSixtyFourTimesTheBackoff() {
    long farAway = deadlineIn(Duration.ofDays(1));
    assertThat(policy(30, Duration.ofMillis(10)).afterFailedAttempt(20, farAway))
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofMillis(640)));
    assertThat(policy(30, Duration.ofSeconds(1)).afterFailedAttempt(20, farAway))
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofSeconds(10)));
    assertThat(policy(30, Duration.ofSeconds(20)).afterFailedAttempt(20, farAway))
        .as("a backoff over the cap is used as it is, never shortened")
        .isEqualTo(new RetryPolicy.RetryAfter(Duration.ofSeconds(20)));
  }

  @Test
  void jitterOnlyShortensTheDelayByUpToHalf() {
    RandomGenerator mostJitter =
        new RandomGenerator() {
          @Override
          public long nextLong() {
            return 0;
          }

          @Override
          public double nextDouble() {
            return 0.999_999;
          }
        };
    RetryPolicy policy =
        new RetryPolicy(
            new Delivery(100, 3, Duration.ofMillis(100), Duration.ofSeconds(30)),
            clock.nanos(),
            () -> mostJitter);
    RetryPolicy.Decision decision = policy.afterFailedAttempt(0, deadlineIn(Duration.ofMinutes(1)));
    assertThat(((RetryPolicy.RetryAfter) decision).delay())
        .isGreaterThan(Duration.ofMillis(50))
        .isLessThan(Duration.ofMillis(51));
  }

  @Test
  void theGiveUpReasonCarriesTheLastError() {
    RetryPolicy.GiveUp giveUp = new RetryPolicy.GiveUp("gave up after 4 attempts");
    assertThat(giveUp.because("disk busy")).isEqualTo("gave up after 4 attempts: disk busy");
    assertThat(giveUp.because(null)).isEqualTo("gave up after 4 attempts");
  }
}

package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The kubelet's restart timing after a container exits, on a clock of the test's own. */
class CrashBackoffTest {

  private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
  private final CrashBackoff backoff =
      new CrashBackoff(Duration.ofSeconds(10), Duration.ofMinutes(5));

  @Test
  void theFirstExitRestartsAtOnceThenEachQuickExitWaitsTwiceAsLongUpToTheCeiling() {
    Instant t = T0;
    assertThat(backoff.next(t)).isZero();
    long[] expectedSeconds = {10, 20, 40, 80, 160, 300, 300};
    for (long expected : expectedSeconds) {
      t = t.plusSeconds(1 + expected); // waited out the back-off, ran one second, exited again
      assertThat(backoff.next(t)).isEqualTo(Duration.ofSeconds(expected));
    }
  }

  @Test
  void aContainerThatRanLongerThanTwiceTheCeilingSinceItsLastRestartStartsOverAtOnce() {
    backoff.next(T0); // restarted at T0
    // Exits at T0+30, waits 10 s: restarted at T0+40.
    assertThat(backoff.next(T0.plusSeconds(30))).isEqualTo(Duration.ofSeconds(10));
    // Ran ten minutes (twice the five-minute ceiling) and a second since that restart.
    assertThat(backoff.next(T0.plusSeconds(40 + 601))).isZero();
    assertThat(backoff.next(T0.plusSeconds(40 + 601 + 5))).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void theAgeCountsFromTheLastRestartNotTheLastExit() {
    backoff.next(T0);
    assertThat(backoff.next(T0.plusSeconds(30))).isEqualTo(Duration.ofSeconds(10));
    // 601 s after the exit at T0+30, but only 591 s after the restart at T0+40: not expired.
    assertThat(backoff.next(T0.plusSeconds(30 + 601))).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void aCeilingBelowTheFirstBackoffIsRefused() {
    assertThatThrownBy(() -> new CrashBackoff(Duration.ofSeconds(10), Duration.ofSeconds(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initial <= ceiling");
  }
}

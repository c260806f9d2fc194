package io.conveyor.common.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff backoff =
      new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, 0.5);

  @Test
  void growsExponentiallyWithinTheJitterBandAndStopsAtMax() {
    SplittableRandom random = new SplittableRandom(42);
    for (int attempt = 0; attempt < 10; attempt++) {
      long base = Math.min(2000, 100L << attempt);
      Duration delay = backoff.delay(attempt, random);
      assertThat(delay.toMillis()).isBetween(base / 2, base);
    }
  }

  @Test
  void jitterSpreadsDelays() {
    SplittableRandom random = new SplittableRandom(7);
    assertThat(
            java.util.stream.IntStream.range(0, 20)
                .mapToObj(i -> backoff.delay(3, random))
                .distinct()
                .count())
        .isGreaterThan(10);
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), 2, 0))
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0))
        .hasMessageContaining("below initial");
  }
}

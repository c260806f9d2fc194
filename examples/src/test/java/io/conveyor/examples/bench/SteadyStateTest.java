package io.conveyor.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SteadyStateTest {

  @Test
  void warmUpGoesOnWhileAnyPathStillSpeedsUp() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 10);
    round(warmUp, 135_000, 100_000);
    assertThat(warmUp.steady()).as("one round has nothing to compare").isFalse();
    round(warmUp, 250_000, 105_000);
    assertThat(warmUp.steady()).as("direct sped up by 85%").isFalse();
    assertThat(warmUp.changes()).isEqualTo("direct +85.2% sidecar +5.0%");
    round(warmUp, 260_000, 104_000);
    assertThat(warmUp.steady()).isTrue();
    assertThat(warmUp.done()).isTrue();
    assertThat(warmUp.rounds()).isEqualTo(3);
  }

  @Test
  void aPathThatSlowsDownByMoreThanTheToleranceIsNotSteadyEither() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 10);
    round(warmUp, 200_000, 100_000);
    round(warmUp, 205_000, 80_000);
    assertThat(warmUp.steady()).isFalse();
    assertThat(warmUp.changes()).isEqualTo("direct +2.5% sidecar -20.0%");
  }

  @Test
  void warmUpEndsAfterItsLastRoundEvenWhenNotSteady() {
    SteadyState<String> warmUp = new SteadyState<>(0.05, 3);
    round(warmUp, 100_000, 50_000);
    round(warmUp, 150_000, 60_000);
    assertThat(warmUp.done()).isFalse();
    round(warmUp, 200_000, 70_000);
    assertThat(warmUp.steady()).isFalse();
    assertThat(warmUp.done()).isTrue();
  }

  @Test
  void aRunOfNoThroughputNeverCountsAsSteady() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 10);
    round(warmUp, 0, 100_000);
    round(warmUp, 0, 100_000);
    assertThat(warmUp.steady()).isFalse();
  }

  @Test
  void settingsOutOfRangeAreRefused() {
    assertThatThrownBy(() -> new SteadyState<String>(0, 5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SteadyState<String>(0.1, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static void round(SteadyState<String> warmUp, double direct, double sidecar) {
    warmUp.record("direct", direct);
    warmUp.record("sidecar", sidecar);
    warmUp.endRound();
  }
}

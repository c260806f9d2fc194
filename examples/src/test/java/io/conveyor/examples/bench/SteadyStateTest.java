package io.conveyor.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SteadyStateTest {

  @Test
  void warmUpGoesOnWhileAnyPathsMeanStillRises() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 20);
    // The direct path doubles over its first rounds (its apps' C2 at work), then levels off.
    double[] direct = {135_000, 250_000, 300_000, 320_000, 330_000, 325_000};
    double[] sidecar = {100_000, 104_000, 101_000, 103_000, 99_000, 102_000};
    for (int i = 0; i < direct.length; i++) {
      round(warmUp, direct[i], sidecar[i]);
      assertThat(warmUp.steady()).as("round %d", i + 1).isFalse();
    }
    // Windows 4-6 against 1-3: direct +42%. Then 5-7 against 2-4, and so on.
    assertThat(warmUp.changes())
        .isEqualTo("direct -1.5% (trend +42.3%) sidecar +3.0% (trend -0.3%)");
    round(warmUp, 328_000, 101_000);
    assertThat(warmUp.steady()).as("5-7 against 2-4: direct +13.0%").isFalse();
    round(warmUp, 331_000, 100_000);
    assertThat(warmUp.steady()).as("6-8 against 3-5: direct +3.6%").isTrue();
    assertThat(warmUp.done()).isTrue();
    assertThat(warmUp.rounds()).isEqualTo(8);
  }

  @Test
  void oneNoisyRunDoesNotKeepAFlatPathFromSettling() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 20);
    double[] sidecar = {200_000, 205_000, 198_000, 202_000, 160_000, 240_000};
    for (double rate : sidecar) {
      round(warmUp, 400_000, rate);
    }
    // 202k, 160k (-21%), 240k (+50%): single runs jump, the windows' means agree within 1%.
    assertThat(warmUp.steady()).isTrue();
  }

  @Test
  void aPathThatSlowsDownByMoreThanTheToleranceIsNotSteadyEither() {
    SteadyState<String> warmUp = new SteadyState<>(0.10, 20);
    double[] sidecar = {100_000, 100_000, 100_000, 80_000, 80_000, 80_000};
    for (double rate : sidecar) {
      round(warmUp, 400_000, rate);
    }
    assertThat(warmUp.steady()).isFalse();
    assertThat(warmUp.changes())
        .isEqualTo("direct +0.0% (trend +0.0%) sidecar +0.0% (trend -20.0%)");
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
    SteadyState<String> warmUp = new SteadyState<>(0.10, 20);
    for (int i = 0; i < 8; i++) {
      round(warmUp, 0, 100_000);
    }
    assertThat(warmUp.steady()).isFalse();
  }

  @Test
  void settingsOutOfRangeAreRefused() {
    assertThatThrownBy(() -> new SteadyState<String>(0, 5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SteadyState<String>(0.1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static void round(SteadyState<String> warmUp, double direct, double sidecar) {
    warmUp.record("direct", direct);
    warmUp.record("sidecar", sidecar);
    warmUp.endRound();
  }
}

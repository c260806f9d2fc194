package io.conveyor.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PacerTest {

  private static final long MS = 1_000_000L;

  @Test
  void unlimitedNeverWaits() {
    Pacer pacer = new Pacer(SendRate.unlimited());
    pacer.sent(0, 1000);
    assertThat(pacer.waitNanos(0)).isZero();
  }

  @Test
  void spacesBatchesByTheRateAndCatchesUpAtMostOneInterval() {
    Pacer pacer = new Pacer(SendRate.recordsPerSecond(1000)); // 100 records = 100 ms
    assertThat(pacer.waitNanos(0)).isZero();
    pacer.sent(0, 100);
    assertThat(pacer.waitNanos(40 * MS)).isEqualTo(60 * MS);
    pacer.sent(100 * MS, 100);
    assertThat(pacer.waitNanos(100 * MS)).isEqualTo(100 * MS);
    // Late by a long time: the next slot is one interval after "now - interval", not a burst.
    pacer.sent(1000 * MS, 100);
    assertThat(pacer.waitNanos(1000 * MS)).isEqualTo(0);
    pacer.sent(1000 * MS, 100);
    assertThat(pacer.waitNanos(1000 * MS)).isEqualTo(100 * MS);
  }

  @Test
  void batchRateIgnoresBatchSize() {
    assertThat(SendRate.batchesPerSecond(10).nanosFor(500)).isEqualTo(100 * MS);
    assertThat(SendRate.recordsPerSecond(10_000).nanosFor(500)).isEqualTo(50 * MS);
  }
}

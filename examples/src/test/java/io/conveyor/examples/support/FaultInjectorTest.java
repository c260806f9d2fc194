package io.conveyor.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.RecordId;
import io.conveyor.examples.support.FaultInjector.Verdict;
import org.junit.jupiter.api.Test;

class FaultInjectorTest {

  private static RecordId id(long sequence) {
    return RecordId.newBuilder().setSourceId("s").setSequence(sequence).build();
  }

  @Test
  void selectionIsDeterministicAndRoughlyTheFraction() {
    int selected = 0;
    for (long s = 0; s < 100_000; s++) {
      boolean first = FaultInjector.selected(0, s, 7, 0.05);
      assertThat(FaultInjector.selected(0, s, 7, 0.05)).isEqualTo(first);
      if (first) {
        selected++;
      }
    }
    assertThat(selected).isBetween(4_500, 5_500);
    assertThat(FaultInjector.selected(0, 1, 7, 0.0)).isFalse();
    assertThat(FaultInjector.selected(0, 1, 7, 1.0)).isTrue();
  }

  @Test
  void selectedRecordsFailTheirFirstAttemptsThenPassAndAreForgotten() {
    FaultInjector injector = new FaultInjector(FaultSettings.NONE.withFailures(1.0, 2), 1);
    assertThat(injector.judge(id(5))).isEqualTo(Verdict.FAIL_RETRYABLE);
    assertThat(injector.judge(id(5))).isEqualTo(Verdict.FAIL_RETRYABLE);
    assertThat(injector.judge(id(5))).isEqualTo(Verdict.PASS);
    assertThat(injector.tracked()).isZero();
    assertThat(injector.injectedFailures()).isEqualTo(2);
  }

  @Test
  void rejectedRecordsAreRejectedEveryTime() {
    FaultInjector injector = new FaultInjector(FaultSettings.NONE.withRejects(1.0), 1);
    assertThat(injector.judge(id(1))).isEqualTo(Verdict.REJECT);
    assertThat(injector.judge(id(1))).isEqualTo(Verdict.REJECT);
    assertThat(new FaultInjector(FaultSettings.NONE, 1).judge(id(1))).isEqualTo(Verdict.PASS);
  }
}

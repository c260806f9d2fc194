package io.conveyor.examples.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.examples.transform.DemoTransform;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SequenceLedgerTest {

  private final SequenceLedger ledger = new SequenceLedger();

  private SequenceLedger.Report report(long sent) {
    return ledger.report(sent, 10, Optional.empty(), OptionalInt.empty());
  }

  @Test
  void countsDistinctAndDuplicateSequences() {
    assertThat(ledger.add("s", 0, 1)).isTrue();
    assertThat(ledger.add("s", 0, 2)).isTrue();
    assertThat(ledger.add("s", 0, 1)).isFalse();
    assertThat(ledger.add("s", 0, 1)).isFalse();
    assertThat(ledger.add("s", 0, -3)).isFalse();
    var counts = ledger.counts().get(0);
    assertThat(counts.distinct()).isEqualTo(2);
    assertThat(counts.duplicates()).isEqualTo(2);
    assertThat(counts.negative()).isEqualTo(1);
    assertThat(counts.minSequence()).isEqualTo(1);
    assertThat(counts.maxSequence()).isEqualTo(2);
  }

  @Test
  void lostCountsUnfilteredSequencesBelowSentThatNeverArrived() {
    // Everything the transform lets through, except 3 and 77, plus 500 twice and one filtered (19).
    for (long s = 0; s < 1000; s++) {
      if (!DemoTransform.isFiltered(s) && s != 3 && s != 77) {
        ledger.add("s", 0, s);
      }
    }
    ledger.add("s", 0, 500);
    ledger.add("s", 0, 19);
    ledger.add("s", 0, 1_234); // beyond what was sent

    SequenceLedger.Report r = report(1000);
    assertThat(r.expected()).isEqualTo(900);
    assertThat(r.deliveredExpected()).isEqualTo(898);
    assertThat(r.lost()).isEqualTo(2);
    assertThat(r.duplicates()).isEqualTo(1);
    assertThat(r.filteredReceived()).isEqualTo(1);
    assertThat(r.beyondSent()).isEqualTo(1);
    assertThat(r.delivered()).isEqualTo(898 + 1 + 1);
  }

  @Test
  void nothingReceivedMeansEverythingExpectedIsLost() {
    SequenceLedger.Report r = report(95);
    assertThat(r.partitions()).isZero();
    assertThat(r.expected()).isEqualTo(86);
    assertThat(r.lost()).isEqualTo(86);
  }

  @Test
  void partitionsAndSourcesAreCountedApartAndSelectable() {
    for (long s = 0; s < 100; s++) {
      ledger.add("a", 0, s);
      ledger.add("a", 1, s);
      if (s < 50) {
        ledger.add("b", 0, s);
      }
    }
    ledger.add("a", 1, 5);
    assertThat(ledger.counts()).hasSize(3);
    SequenceLedger.Report a1 = ledger.report(100, 0, Optional.of("a"), OptionalInt.of(1));
    assertThat(a1.partitions()).isEqualTo(1);
    assertThat(a1.delivered()).isEqualTo(100);
    assertThat(a1.duplicates()).isEqualTo(1);
    assertThat(a1.lost()).isZero();
    SequenceLedger.Report b = ledger.report(100, 0, Optional.of("b"), OptionalInt.empty());
    assertThat(b.lost()).isEqualTo(50);
    SequenceLedger.Report all = ledger.report(100, 0, Optional.empty(), OptionalInt.empty());
    assertThat(all.partitions()).isEqualTo(3);
    assertThat(all.expected()).isEqualTo(300);
    assertThat(all.lost()).isEqualTo(50);
  }

  @Test
  void sequencesSpanningManyPagesAreCountedExactly() {
    // Enough sequences to fill many of the ledger's pages; how fast is the benchmark's business.
    long n = 1_000_000;
    SequenceLedger.Partition p = ledger.partition("big", 0);
    for (long s = 0; s < n; s++) {
      if (s != 432_100 && !DemoTransform.isFiltered(s)) {
        p.add(s);
      }
    }
    p.add(999_990); // a duplicate near the end
    SequenceLedger.Report r = report(n);
    assertThat(r.expected()).isEqualTo(900_000);
    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.duplicates()).isEqualTo(1);
    assertThat(r.filteredReceived()).isZero();
  }

  @Test
  void sparseAndOffsetRangesWork() {
    ledger.add("s", 0, 5_000_000_000L);
    ledger.add("s", 0, 65_535);
    ledger.add("s", 0, 65_536);
    SequenceLedger.Report r = ledger.report(65_537, 1, Optional.empty(), OptionalInt.empty());
    assertThat(r.expected()).isZero();
    assertThat(r.filteredReceived()).isEqualTo(2);
    assertThat(r.beyondSent()).isEqualTo(1);
    assertThat(ledger.report(1L << 40, 7, Optional.empty(), OptionalInt.empty()).delivered())
        .isEqualTo(3);
  }

  @Test
  void concurrentAddsLoseNothing() throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    for (int t = 0; t < 4; t++) {
      pool.execute(
          () -> {
            for (long s = 0; s < 100_000; s++) {
              ledger.add("s", 0, s);
            }
          });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    var counts = ledger.counts().get(0);
    assertThat(counts.distinct()).isEqualTo(100_000);
    assertThat(counts.duplicates()).isEqualTo(300_000);
  }
}

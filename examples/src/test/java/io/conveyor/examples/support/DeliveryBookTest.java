package io.conveyor.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.examples.support.DeliveryBook.Outstanding;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DeliveryBookTest {

  private static final long MS = 1_000_000L;
  private final DeliveryStats stats = new DeliveryStats();
  private final Backoff backoff =
      new Backoff(Duration.ofMillis(100), Duration.ofMillis(400), 2.0, 0.0);

  private DeliveryBook book(long records, int maxAttempts, int retryQueueLimit) {
    WorkloadSettings workload =
        WorkloadSettings.defaults("src")
            .withRecords(records)
            .withRetries(maxAttempts, backoff)
            .withRetryQueueLimit(retryQueueLimit);
    RecordGenerator generator =
        new RecordGenerator("src", 0, 10, 1, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
    return new DeliveryBook(generator, workload, stats, new SplittableRandom(1));
  }

  private static BatchResult result(RecordOutcome... outcomes) {
    return BatchResult.newBuilder().addAllOutcomes(List.of(outcomes)).build();
  }

  private static List<Long> sequences(List<Outstanding> batch) {
    return batch.stream().map(o -> o.record().getId().getSequence()).toList();
  }

  @Test
  void producesNumberedRecordsInBatchesAndCompletesWhenAllHaveFinalOutcomes() {
    DeliveryBook book = book(5, 10, 100);
    List<Outstanding> first = book.nextBatch(0, 3);
    List<Outstanding> second = book.nextBatch(0, 3);
    assertThat(sequences(first)).containsExactly(0L, 1L, 2L);
    assertThat(sequences(second)).containsExactly(3L, 4L);
    assertThat(book.nextBatch(0, 3)).isEmpty();
    book.onResult(
        first,
        result(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED),
        0);
    assertThat(book.complete()).isFalse();
    book.onResult(
        second,
        result(RecordOutcome.RECORD_OUTCOME_DELIVERED, RecordOutcome.RECORD_OUTCOME_DELIVERED),
        0);
    assertThat(book.complete()).isTrue();
    DeliveryStats.Snapshot s = stats.snapshot(0);
    assertThat(s.produced()).isEqualTo(5);
    assertThat(s.delivered()).isEqualTo(3);
    assertThat(s.filtered()).isEqualTo(1);
    assertThat(s.deadLettered()).isEqualTo(1);
    assertThat(s.resent()).isZero();
  }

  @Test
  void aByteBudgetCutsTheBatchButNeverBelowOneRecordAndLosesNoSequence() {
    DeliveryBook book = book(5, 10, 100);
    long one = DeliveryBook.encodedSize(book.nextBatch(0, 1).get(0).record());
    List<Outstanding> two = book.nextBatch(0, 10, 2 * one + one / 2);
    List<Outstanding> atLeastOne = book.nextBatch(0, 10, 1);
    List<Outstanding> rest = book.nextBatch(0, 10, Long.MAX_VALUE);

    assertThat(sequences(two)).containsExactly(1L, 2L);
    assertThat(sequences(atLeastOne)).containsExactly(3L);
    assertThat(sequences(rest)).containsExactly(4L);
    assertThat(stats.snapshot(0).produced()).isEqualTo(5);
  }

  @Test
  void retryableFailuresComeBackAfterTheBackoffRejectedOnesAreFinal() {
    DeliveryBook book = book(3, 10, 100);
    List<Outstanding> batch = book.nextBatch(0, 3);
    BatchResult result =
        BatchResult.newBuilder()
            .addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED)
            .addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED)
            .addOutcomes(RecordOutcome.RECORD_OUTCOME_DELIVERED)
            .addErrors(
                RecordError.newBuilder().setIndex(0).setKind(FailureKind.FAILURE_KIND_RETRYABLE))
            .addErrors(
                RecordError.newBuilder().setIndex(1).setKind(FailureKind.FAILURE_KIND_REJECTED))
            .build();
    book.onResult(batch, result, 0);

    assertThat(book.nextBatch(50 * MS, 10)).as("not due before the backoff").isEmpty();
    assertThat(book.nextDueNanos()).isEqualTo(100 * MS);
    List<Outstanding> resend = book.nextBatch(100 * MS, 10);
    assertThat(sequences(resend)).containsExactly(0L);
    assertThat(resend.get(0).sends()).isEqualTo(2);
    book.onResult(resend, result(RecordOutcome.RECORD_OUTCOME_DELIVERED), 100 * MS);

    assertThat(book.complete()).isTrue();
    DeliveryStats.Snapshot s = stats.snapshot(0);
    assertThat(s.failed()).isEqualTo(1);
    assertThat(s.delivered()).isEqualTo(2);
    assertThat(s.sent()).isEqualTo(4);
    assertThat(s.resent()).isEqualTo(1);
  }

  @Test
  void failedWithoutErrorEntryUnspecifiedOutcomesAndSizeMismatchesAreRetried() {
    DeliveryBook book = book(3, 10, 100);
    List<Outstanding> batch = book.nextBatch(0, 2);
    book.onResult(
        batch,
        result(RecordOutcome.RECORD_OUTCOME_FAILED, RecordOutcome.RECORD_OUTCOME_UNSPECIFIED),
        0);
    List<Outstanding> next = book.nextBatch(0, 1);
    book.onResult(next, result(), 0); // no outcomes for a batch of one
    assertThat(book.waitingForResend()).isEqualTo(3);
    assertThat(stats.snapshot(0).unknownOutcomes()).isEqualTo(2);
  }

  @Test
  void lostBatchesAreDueAtOnceAndBeforeNewRecords() {
    DeliveryBook book = book(10, 10, 100);
    List<Outstanding> batch = book.nextBatch(0, 3);
    book.onLost(batch, 7 * MS);
    List<Outstanding> next = book.nextBatch(7 * MS, 5);
    assertThat(sequences(next)).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(next.subList(0, 3)).allMatch(o -> o.sends() == 2);
    assertThat(stats.snapshot(0).resent()).isEqualTo(3);
  }

  @Test
  void recordsOutOfAttemptsAreCountedFailed() {
    DeliveryBook book = book(1, 2, 100);
    book.onLost(book.nextBatch(0, 1), 0);
    List<Outstanding> second = book.nextBatch(0, 1);
    assertThat(second.get(0).sends()).isEqualTo(2);
    book.onCallFailed(second, 0);
    assertThat(book.complete()).isTrue();
    assertThat(stats.snapshot(0).failed()).isEqualTo(1);
    assertThat(stats.snapshot(0).exhausted()).isEqualTo(1);
  }

  @Test
  void aFullRetryQueueStopsNewRecords() {
    DeliveryBook book = book(100, 10, 2);
    List<Outstanding> batch = book.nextBatch(0, 3);
    book.onCallFailed(batch, 0); // 3 waiting for 100 ms, limit 2
    assertThat(book.nextBatch(1, 10)).isEmpty();
    assertThat(book.hasSendable(1)).isFalse();
    List<Outstanding> later = book.nextBatch(100 * MS, 10);
    assertThat(sequences(later)).startsWith(0L, 1L, 2L).hasSize(10);
  }

  @Test
  void zeroRecordsIsCompleteAtOnce() {
    assertThat(book(0, 1, 1).complete()).isTrue();
  }
}

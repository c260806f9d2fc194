package io.conveyor.examples.support;

import com.google.protobuf.CodedOutputStream;
import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;

/**
 * The source side's record bookkeeping, shared by the pusher and the direct driver: which records
 * to send next, which wait for a re-send and when, and when every record has a final outcome.
 *
 * <p>Pure and single-threaded: the caller passes the time and owns the thread. Batches in flight
 * are the caller's; it hands their records back with {@link #onResult} (per-record outcomes),
 * {@link #onLost} (no answer: stream broken, timed out) or {@link #onCallFailed} (the whole call
 * failed retryably).
 *
 * <p>Outcome policy: DELIVERED, FILTERED and DEAD_LETTERED are final; FAILED with a REJECTED error
 * is final and counted failed; FAILED with a RETRYABLE (or missing) error, an UNSPECIFIED outcome
 * or a result whose size does not match the batch mean "send again" after the retry backoff. A
 * record sent {@code maxAttempts} times without a final outcome is counted failed (exhausted).
 *
 * <p>Bounds: records waiting for a re-send are at most {@code retryQueueLimit} plus what was in
 * flight; while the queue is at its limit no new records are produced.
 */
public final class DeliveryBook {

  /** A record the book has produced and that has no final outcome yet. */
  public static final class Outstanding {
    private final Record record;
    private int sends;
    private long dueNanos;
    private long order;

    Outstanding(Record record) {
      this.record = record;
    }

    public Record record() {
      return record;
    }

    /** How many times the record has been handed out for sending. */
    public int sends() {
      return sends;
    }
  }

  private final RecordGenerator generator;
  private final long total;
  private final int maxAttempts;
  private final Backoff backoff;
  private final int retryQueueLimit;
  private final DeliveryStats stats;
  private final RandomGenerator random;
  private final PriorityQueue<Outstanding> retries =
      new PriorityQueue<>(
          Comparator.comparingLong((Outstanding o) -> o.dueNanos).thenComparingLong(o -> o.order));
  private long nextSequence;
  private long finished;
  private long queueOrder;
  private Record peeked;

  public DeliveryBook(
      RecordGenerator generator,
      WorkloadSettings workload,
      DeliveryStats stats,
      RandomGenerator random) {
    this.generator = generator;
    this.total = workload.records();
    this.maxAttempts = workload.maxAttempts();
    this.backoff = workload.retryBackoff();
    this.retryQueueLimit = workload.retryQueueLimit();
    this.stats = stats;
    this.random = random;
  }

  /**
   * Up to {@code max} records to send now: re-sends that are due first, then new records. Empty
   * when nothing may be sent now (see {@link #nextDueNanos()} for when a re-send becomes due).
   */
  public List<Outstanding> nextBatch(long now, int max) {
    return nextBatch(now, max, Long.MAX_VALUE);
  }

  /**
   * As {@link #nextBatch(long, int)}, and the records' encoded size in a {@code RecordBatch} stays
   * within {@code maxBytes} — except that a batch always has at least one record, so that a record
   * larger than the limit is still sent (and refused) rather than held back for ever.
   */
  public List<Outstanding> nextBatch(long now, int max, long maxBytes) {
    List<Outstanding> batch = new ArrayList<>(Math.min(max, 1024));
    long bytes = 0;
    int resends = 0;
    while (batch.size() < max && !retries.isEmpty() && retries.peek().dueNanos <= now) {
      long size = encodedSize(retries.peek().record);
      if (!batch.isEmpty() && bytes + size > maxBytes) {
        break;
      }
      Outstanding o = retries.poll();
      o.sends++;
      resends++;
      bytes += size;
      batch.add(o);
    }
    while (batch.size() < max && nextSequence < total && retries.size() < retryQueueLimit) {
      Record record = peekNew();
      long size = encodedSize(record);
      if (!batch.isEmpty() && bytes + size > maxBytes) {
        break; // kept for the next batch
      }
      peeked = null;
      nextSequence++;
      Outstanding o = new Outstanding(record);
      o.sends = 1;
      bytes += size;
      batch.add(o);
    }
    if (!batch.isEmpty()) {
      stats.produced.add(batch.size() - resends);
      stats.sent.add(batch.size());
      stats.resent.add(resends);
    }
    return batch;
  }

  /** The next new record, made once and kept until it is taken. */
  private Record peekNew() {
    if (peeked == null) {
      peeked = generator.record(nextSequence);
    }
    return peeked;
  }

  /** A record's size inside a {@code RecordBatch}: its tag, length prefix and bytes. */
  public static long encodedSize(Record record) {
    return CodedOutputStream.computeMessageSize(RecordBatch.RECORDS_FIELD_NUMBER, record);
  }

  /** Applies the per-record outcomes of an answered batch. */
  public void onResult(List<Outstanding> batch, BatchResult result, long now) {
    if (result.getOutcomesCount() != batch.size()) {
      stats.unknownOutcomes.add(batch.size());
      for (Outstanding o : batch) {
        retry(o, now);
      }
      return;
    }
    FailureKind[] kinds = null;
    if (result.getErrorsCount() > 0) {
      kinds = new FailureKind[batch.size()];
      for (RecordError error : result.getErrorsList()) {
        if (error.getIndex() >= 0 && error.getIndex() < kinds.length) {
          kinds[error.getIndex()] = error.getKind();
        }
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      Outstanding o = batch.get(i);
      RecordOutcome outcome = result.getOutcomes(i);
      switch (outcome) {
        case RECORD_OUTCOME_DELIVERED -> finish(stats.delivered);
        case RECORD_OUTCOME_FILTERED -> finish(stats.filtered);
        case RECORD_OUTCOME_DEAD_LETTERED -> finish(stats.deadLettered);
        case RECORD_OUTCOME_FAILED -> {
          FailureKind kind = kinds == null ? null : kinds[i];
          if (kind == FailureKind.FAILURE_KIND_REJECTED) {
            finish(stats.failed);
          } else {
            retry(o, now);
          }
        }
        default -> {
          stats.unknownOutcomes.increment();
          retry(o, now);
        }
      }
    }
  }

  /**
   * Records of a batch that got no answer: they are due again at once (the caller paces
   * reconnects).
   */
  public void onLost(List<Outstanding> batch, long now) {
    for (Outstanding o : batch) {
      if (o.sends >= maxAttempts) {
        exhaust();
      } else {
        enqueue(o, now);
      }
    }
  }

  /**
   * Records of a call that failed as a whole with a retryable error: due again after the backoff.
   */
  public void onCallFailed(List<Outstanding> batch, long now) {
    for (Outstanding o : batch) {
      retry(o, now);
    }
  }

  /** When the earliest waiting re-send becomes due; {@link Long#MAX_VALUE} when none waits. */
  public long nextDueNanos() {
    Outstanding first = retries.peek();
    return first == null ? Long.MAX_VALUE : first.dueNanos;
  }

  /** Whether {@link #nextBatch} would return records at {@code now}. */
  public boolean hasSendable(long now) {
    return (nextSequence < total && retries.size() < retryQueueLimit) || nextDueNanos() <= now;
  }

  /** Every record has been produced and has a final outcome. */
  public boolean complete() {
    return nextSequence == total && finished == total;
  }

  public long produced() {
    return nextSequence;
  }

  public long finished() {
    return finished;
  }

  public int waitingForResend() {
    return retries.size();
  }

  private void retry(Outstanding o, long now) {
    if (o.sends >= maxAttempts) {
      exhaust();
      return;
    }
    enqueue(o, now + backoff.delay(o.sends - 1, random).toNanos());
  }

  private void enqueue(Outstanding o, long due) {
    o.dueNanos = due;
    o.order = queueOrder++;
    retries.add(o);
  }

  private void exhaust() {
    stats.exhausted.increment();
    finish(stats.failed);
  }

  private void finish(java.util.concurrent.atomic.LongAdder counter) {
    counter.increment();
    finished++;
  }
}

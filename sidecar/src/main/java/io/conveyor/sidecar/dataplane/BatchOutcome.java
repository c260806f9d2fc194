package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import java.util.Arrays;

/**
 * The outcome of every record of a batch, filled in as the batch moves through the pipeline. Pure
 * and not thread-safe: each batch's outcome is written by one completion at a time.
 *
 * <p>A record starts UNSPECIFIED and ends DELIVERED, FILTERED, DEAD_LETTERED or FAILED (with an
 * error saying whether re-sending can help). {@link #toProto()} refuses to report a record that has
 * no outcome: an unaccounted record would be a silently lost one.
 */
public final class BatchOutcome {

  private final RecordOutcome[] outcomes;
  private final RecordError[] errors;

  public BatchOutcome(int size) {
    this.outcomes = new RecordOutcome[size];
    this.errors = new RecordError[size];
    Arrays.fill(outcomes, RecordOutcome.RECORD_OUTCOME_UNSPECIFIED);
  }

  /** Every record failed for the same reason. */
  public static BatchOutcome allFailed(int size, FailureKind kind, String stage, String message) {
    BatchOutcome outcome = new BatchOutcome(size);
    for (int i = 0; i < size; i++) {
      outcome.fail(i, kind, stage, message);
    }
    return outcome;
  }

  /**
   * Reads a downstream answer. An answer that does not account for exactly {@code size} records (a
   * broken peer) fails them all as retryable rather than guess which is which.
   */
  public static BatchOutcome fromProto(BatchResult result, int size, String stage) {
    if (result.getOutcomesCount() != size) {
      return allFailed(
          size,
          FailureKind.FAILURE_KIND_RETRYABLE,
          stage,
          "downstream answered "
              + result.getOutcomesCount()
              + " outcomes for "
              + size
              + " records");
    }
    BatchOutcome outcome = new BatchOutcome(size);
    for (int i = 0; i < size; i++) {
      outcome.outcomes[i] = result.getOutcomes(i);
    }
    for (RecordError error : result.getErrorsList()) {
      if (error.getIndex() >= 0 && error.getIndex() < size) {
        outcome.errors[error.getIndex()] = error;
      }
    }
    for (int i = 0; i < size; i++) {
      RecordOutcome o = outcome.outcomes[i];
      boolean known =
          o == RecordOutcome.RECORD_OUTCOME_DELIVERED
              || o == RecordOutcome.RECORD_OUTCOME_FILTERED
              || o == RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED
              || o == RecordOutcome.RECORD_OUTCOME_FAILED;
      if (!known) {
        outcome.fail(i, FailureKind.FAILURE_KIND_RETRYABLE, stage, "downstream gave no outcome");
      } else if (o == RecordOutcome.RECORD_OUTCOME_FAILED && outcome.errors[i] == null) {
        outcome.fail(i, FailureKind.FAILURE_KIND_RETRYABLE, stage, "failed downstream");
      }
    }
    return outcome;
  }

  public int size() {
    return outcomes.length;
  }

  public RecordOutcome outcome(int index) {
    return outcomes[index];
  }

  /** The error of a FAILED or DEAD_LETTERED record; null otherwise. */
  public RecordError error(int index) {
    return errors[index];
  }

  public boolean isFailed(int index) {
    return outcomes[index] == RecordOutcome.RECORD_OUTCOME_FAILED;
  }

  public void deliver(int index) {
    outcomes[index] = RecordOutcome.RECORD_OUTCOME_DELIVERED;
    errors[index] = null;
  }

  public void filter(int index) {
    outcomes[index] = RecordOutcome.RECORD_OUTCOME_FILTERED;
    errors[index] = null;
  }

  public void fail(int index, FailureKind kind, String stage, String message) {
    outcomes[index] = RecordOutcome.RECORD_OUTCOME_FAILED;
    errors[index] =
        RecordError.newBuilder()
            .setIndex(index)
            .setKind(kind)
            .setStage(stage)
            .setMessage(message == null ? "" : message)
            .build();
  }

  /** The record failed at a stage and was written to the dead-letter sink instead. */
  public void deadLetter(int index) {
    RecordError error = errors[index];
    outcomes[index] = RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED;
    errors[index] =
        error != null
            ? error
            : RecordError.newBuilder().setIndex(index).setMessage("dead-lettered").build();
  }

  /** Copies the outcome of record {@code from} of {@code other} to record {@code to} of this. */
  public void copy(int to, BatchOutcome other, int from) {
    outcomes[to] = other.outcomes[from];
    RecordError error = other.errors[from];
    errors[to] = error == null ? null : error.toBuilder().setIndex(to).build();
  }

  /** Copies all of {@code part}, whose record 0 is record {@code offset} of this batch. */
  public void copyAll(int offset, BatchOutcome part) {
    for (int i = 0; i < part.size(); i++) {
      copy(offset + i, part, i);
    }
  }

  public int count(RecordOutcome outcome) {
    int n = 0;
    for (RecordOutcome o : outcomes) {
      if (o == outcome) {
        n++;
      }
    }
    return n;
  }

  /**
   * The wire form.
   *
   * @throws IllegalStateException when a record has no outcome (a bug: it would be lost)
   */
  public BatchResult toProto() {
    BatchResult.Builder result = BatchResult.newBuilder();
    for (int i = 0; i < outcomes.length; i++) {
      if (outcomes[i] == RecordOutcome.RECORD_OUTCOME_UNSPECIFIED) {
        throw new IllegalStateException(
            "record " + i + " of " + outcomes.length + " has no outcome");
      }
      result.addOutcomes(outcomes[i]);
      if (errors[i] != null) {
        result.addErrors(errors[i]);
      }
    }
    return result.build();
  }
}

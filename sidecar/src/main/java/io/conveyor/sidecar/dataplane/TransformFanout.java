package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.sidecar.wire.v1.TransformResultView;
import java.util.ArrayList;
import java.util.List;

/**
 * What a transform made of its inputs, and how the fate of its outputs downstream decides the fate
 * of each input. Pure.
 *
 * <p>An input's outputs are contiguous in {@link #outputs()}. After the rest of the pipeline
 * answered for the outputs, an input is FAILED if any of its outputs failed (re-sending it is the
 * only way to get that output through), else DEAD_LETTERED if any was, else DELIVERED if any was,
 * else FILTERED (every output was filtered further down).
 */
public final class TransformFanout {

  private final List<ByteString> outputs;
  private final int[] firstOutput;
  private final int[] outputCount;

  private TransformFanout(List<ByteString> outputs, int[] firstOutput, int[] outputCount) {
    this.outputs = outputs;
    this.firstOutput = firstOutput;
    this.outputCount = outputCount;
  }

  /**
   * Gathers the outputs of the inputs whose result is OK; FILTERED and OK-without-output inputs are
   * marked filtered in {@code inputs}. Inputs already failed in {@code inputs} are skipped.
   */
  public static TransformFanout collect(TransformResultView[] results, BatchOutcome inputs) {
    int n = results.length;
    int[] first = new int[n];
    int[] count = new int[n];
    List<ByteString> outputs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      first[i] = outputs.size();
      if (inputs.isFailed(i) || results[i] == null) {
        continue;
      }
      TransformResultView result = results[i];
      if (result.getStatus() == TransformResult.Status.STATUS_OK && result.getOutputsCount() > 0) {
        outputs.addAll(result.getOutputsList());
        count[i] = result.getOutputsCount();
      } else {
        inputs.filter(i);
      }
    }
    return new TransformFanout(outputs, first, count);
  }

  public List<ByteString> outputs() {
    return outputs;
  }

  /** Sets the outcome of every input that produced outputs from the outcomes of those outputs. */
  public void resolve(BatchOutcome inputs, BatchOutcome downstream) {
    for (int i = 0; i < firstOutput.length; i++) {
      if (outputCount[i] == 0) {
        continue;
      }
      RecordError firstFailure = null;
      RecordError firstDeadLetter = null;
      boolean allFailuresRetryable = true;
      boolean anyDelivered = false;
      for (int j = firstOutput[i]; j < firstOutput[i] + outputCount[i]; j++) {
        RecordOutcome o = downstream.outcome(j);
        if (o == RecordOutcome.RECORD_OUTCOME_FAILED) {
          RecordError error = downstream.error(j);
          if (firstFailure == null) {
            firstFailure = error;
          }
          allFailuresRetryable &=
              error != null && error.getKind() == FailureKind.FAILURE_KIND_RETRYABLE;
        } else if (o == RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED) {
          if (firstDeadLetter == null) {
            firstDeadLetter = downstream.error(j);
          }
        } else if (o == RecordOutcome.RECORD_OUTCOME_DELIVERED) {
          anyDelivered = true;
        }
      }
      if (firstFailure != null) {
        inputs.fail(
            i,
            allFailuresRetryable
                ? FailureKind.FAILURE_KIND_RETRYABLE
                : FailureKind.FAILURE_KIND_REJECTED,
            firstFailure.getStage(),
            firstFailure.getMessage());
      } else if (firstDeadLetter != null) {
        inputs.fail(
            i,
            FailureKind.FAILURE_KIND_REJECTED,
            firstDeadLetter.getStage(),
            firstDeadLetter.getMessage());
        inputs.deadLetter(i);
      } else if (anyDelivered) {
        inputs.deliver(i);
      } else {
        inputs.filter(i);
      }
    }
  }
}

package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.sidecar.metrics.StageMeters;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.StageRoute;
import io.conveyor.sidecar.wire.v1.RecordBatchView;
import io.grpc.Deadline;
import java.util.List;

/**
 * One chunk of a batch at one stage: which records, where they go (route and stage), by when (the
 * batch's deadline) and how each of them ended (the outcome). The stage's call writes the outcome;
 * the executor reads it once the stage and everything after it answered.
 */
final class ChunkDelivery {

  private final BatchRun batch;
  private final PipelineRoute route;
  private final StageRoute stage;
  private final List<ByteString> records;
  private final StageMeters meters;
  private final BatchOutcome outcome;

  ChunkDelivery(
      BatchRun batch,
      PipelineRoute route,
      StageRoute stage,
      List<ByteString> records,
      StageMeters meters) {
    this.batch = batch;
    this.route = route;
    this.stage = stage;
    this.records = records;
    this.meters = meters;
    this.outcome = new BatchOutcome(records.size());
  }

  BatchRun batch() {
    return batch;
  }

  PipelineRoute route() {
    return route;
  }

  StageRoute stage() {
    return stage;
  }

  List<ByteString> records() {
    return records;
  }

  int size() {
    return records.size();
  }

  StageMeters meters() {
    return meters;
  }

  BatchOutcome outcome() {
    return outcome;
  }

  Deadline deadline() {
    return batch.deadline();
  }

  /** Fails record {@code index} at this stage. */
  void fail(int index, FailureKind kind, String message) {
    outcome.fail(index, kind, stage.name(), message);
  }

  /** Fails every record at this stage for the same reason. */
  void failAll(FailureKind kind, String message) {
    for (int i = 0; i < records.size(); i++) {
      fail(i, kind, message);
    }
  }

  /**
   * The batch was aborted: the records at {@code indices} get no further attempt and fail,
   * retryably, for the abort's reason.
   */
  void abandon(Iterable<Integer> indices) {
    for (int i : indices) {
      fail(i, FailureKind.FAILURE_KIND_RETRYABLE, batch.abortReason());
    }
  }

  /** The batch was aborted: every record of the chunk fails for the abort's reason. */
  void abandonAll() {
    failAll(FailureKind.FAILURE_KIND_RETRYABLE, batch.abortReason());
  }

  /**
   * The records at {@code indices} as a batch for a stage call; the whole chunk without copying.
   */
  RecordBatchView batchOf(int[] indices) {
    RecordBatchView.Builder batch = RecordBatchView.newBuilder();
    if (indices.length == records.size()) {
      return batch.addAllRecords(records).build();
    }
    for (int i : indices) {
      batch.addRecords(records.get(i));
    }
    return batch.build();
  }

  /** Every record of the chunk, for the first attempt. */
  int[] allIndices() {
    int[] indices = new int[records.size()];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = i;
    }
    return indices;
  }
}

package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.sidecar.routing.PipelineRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * The step after a stage: when the pipeline has a dead-letter sink, the records this stage rejected
 * go there, with the reason in their metadata, and count as dead-lettered once it wrote them.
 * Records failed further down were dead-lettered (or not) by the stage that failed them.
 */
final class DeadLetters {

  /** Where the letters are delivered: into a stage of the same batch, like any records. */
  @FunctionalInterface
  interface Downstream {
    CompletableFuture<BatchOutcome> deliver(
        BatchRun batch, PipelineRoute route, int index, List<ByteString> records);
  }

  private final Downstream downstream;

  DeadLetters(Downstream downstream) {
    this.downstream = downstream;
  }

  /** Sends the chunk's records rejected at its stage; completes with the chunk's outcome. */
  CompletableFuture<BatchOutcome> send(ChunkDelivery chunk) {
    PipelineRoute route = chunk.route();
    BatchOutcome outcome = chunk.outcome();
    OptionalInt dlq = route.deadLetterIndex();
    if (dlq.isEmpty() || chunk.stage().index() == dlq.getAsInt()) {
      return CompletableFuture.completedFuture(outcome);
    }
    List<Integer> rejectedHere = new ArrayList<>();
    for (int i = 0; i < outcome.size(); i++) {
      RecordError error = outcome.error(i);
      if (outcome.isFailed(i)
          && error.getKind() == FailureKind.FAILURE_KIND_REJECTED
          && error.getStage().equals(chunk.stage().name())) {
        rejectedHere.add(i);
      }
    }
    if (rejectedHere.isEmpty()) {
      return CompletableFuture.completedFuture(outcome);
    }
    List<ByteString> letters = new ArrayList<>(rejectedHere.size());
    for (int i : rejectedHere) {
      letters.add(letter(route, chunk.records().get(i), outcome.error(i)));
    }
    return downstream
        .deliver(chunk.batch(), route, dlq.getAsInt(), letters)
        .thenApply(
            written -> {
              for (int j = 0; j < rejectedHere.size(); j++) {
                if (written.outcome(j) == RecordOutcome.RECORD_OUTCOME_DELIVERED) {
                  outcome.deadLetter(rejectedHere.get(j));
                }
              }
              return outcome;
            });
  }

  /** The record with the reason it failed in its metadata (the rare path that decodes a record). */
  private static ByteString letter(PipelineRoute route, ByteString record, RecordError error) {
    try {
      return Record.parseFrom(record).toBuilder()
          .putMetadata(PipelineExecutor.ERROR_KEY, error.getMessage())
          .putMetadata(PipelineExecutor.FAILED_STAGE_KEY, error.getStage())
          .putMetadata(PipelineExecutor.PIPELINE_KEY, route.pipeline())
          .build()
          .toByteString();
    } catch (InvalidProtocolBufferException e) {
      return record; // undecodable: dead-letter it as it came
    }
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.TransformResultView;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code ProcessBatch} on the pod's transform. A record's result is kept until the outputs of the
 * whole chunk go on together ({@link #results()}); only a failure is an outcome at this stage.
 */
final class TransformCall implements LocalCall<ProcessBatchResponseView> {

  private final StageClient client;
  private final ChunkDelivery chunk;
  private final String endpoint;
  private final TransformResultView[] results;

  TransformCall(StageClient client, ChunkDelivery chunk) {
    this.client = client;
    this.chunk = chunk;
    this.endpoint = chunk.stage().local().orElseThrow().endpoint();
    this.results = new TransformResultView[chunk.size()];
  }

  @Override
  public CompletableFuture<ProcessBatchResponseView> call(int[] pending) {
    return client.process(
        endpoint,
        ProcessBatchRequestView.newBuilder()
            .setBatch(chunk.batchOf(pending))
            .setPipeline(chunk.route().pipeline())
            .setStage(chunk.stage().name())
            .build(),
        chunk.deadline());
  }

  @Override
  public int resultCount(ProcessBatchResponseView response) {
    return response.getResultsCount();
  }

  @Override
  public String apply(ProcessBatchResponseView response, int[] pending, List<Integer> retry) {
    String lastError = null;
    for (int j = 0; j < pending.length; j++) {
      TransformResultView result = response.getResults(j);
      int i = pending[j];
      if (result.getStatus() != TransformResult.Status.STATUS_FAILED) {
        results[i] = result;
      } else if (result.getRetryable()) {
        retry.add(i);
        lastError = result.getError();
      } else {
        chunk.fail(i, FailureKind.FAILURE_KIND_REJECTED, result.getError());
      }
    }
    return lastError;
  }

  /** The result of every record the transform processed (null for the failed ones). */
  TransformResultView[] results() {
    return results;
  }
}

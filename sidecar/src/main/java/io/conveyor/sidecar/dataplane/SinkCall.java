package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** {@code WriteBatch} on the pod's sink: a record is delivered once the sink says it wrote it. */
final class SinkCall implements LocalCall<WriteBatchResponse> {

  private final StageClient client;
  private final ChunkDelivery chunk;
  private final String endpoint;

  SinkCall(StageClient client, ChunkDelivery chunk) {
    this.client = client;
    this.chunk = chunk;
    this.endpoint = chunk.stage().local().orElseThrow().endpoint();
  }

  @Override
  public CompletableFuture<WriteBatchResponse> call(int[] pending) {
    return client.write(
        endpoint,
        WriteBatchRequestView.newBuilder()
            .setBatch(chunk.batchOf(pending))
            .setPipeline(chunk.route().pipeline())
            .setStage(chunk.stage().name())
            .build(),
        chunk.deadline());
  }

  @Override
  public int resultCount(WriteBatchResponse response) {
    return response.getResultsCount();
  }

  @Override
  public String apply(WriteBatchResponse response, int[] pending, List<Integer> retry) {
    String lastError = null;
    for (int j = 0; j < pending.length; j++) {
      SinkResult result = response.getResults(j);
      int i = pending[j];
      if (result.getStatus() == SinkResult.Status.STATUS_OK) {
        chunk.outcome().deliver(i);
      } else if (result.getRetryable()) {
        retry.add(i);
        lastError = result.getError();
      } else {
        chunk.fail(i, FailureKind.FAILURE_KIND_REJECTED, result.getError());
      }
    }
    return lastError;
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.ForwardBatchResponse;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import io.grpc.Deadline;
import java.util.concurrent.CompletableFuture;

/**
 * The calls the pipeline executor makes: to the pod's own transform and sink services, and to other
 * sidecars. Futures fail with {@link io.grpc.StatusRuntimeException}s; cancelling one should cancel
 * its call.
 */
public interface StageClient {

  CompletableFuture<ProcessBatchResponseView> process(
      String endpoint, ProcessBatchRequestView request, Deadline deadline);

  CompletableFuture<WriteBatchResponse> write(
      String endpoint, WriteBatchRequestView request, Deadline deadline);

  /**
   * @param identity the workload identity the sidecar at {@code endpoint} must prove (its
   *     certificate is checked for it before anything is sent); empty without mutual TLS
   */
  CompletableFuture<ForwardBatchResponse> forward(
      String endpoint, String identity, ForwardBatchRequestView request, Deadline deadline);
}

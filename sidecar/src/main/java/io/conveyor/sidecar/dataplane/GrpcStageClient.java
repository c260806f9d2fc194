package io.conveyor.sidecar.dataplane;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.conveyor.etl.v1.ForwardBatchResponse;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.sidecar.wire.WireMethods;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import io.grpc.CallOptions;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * {@link StageClient} over gRPC, with the view-typed methods and pooled channels. Cancelling a
 * returned future cancels its call.
 */
public final class GrpcStageClient implements StageClient {

  private final ChannelPool channels;

  public GrpcStageClient(ChannelPool channels) {
    this.channels = channels;
  }

  @Override
  public CompletableFuture<ProcessBatchResponseView> process(
      String endpoint, ProcessBatchRequestView request, Deadline deadline) {
    return call(WireMethods.PROCESS_BATCH, () -> channels.channel(endpoint), request, deadline);
  }

  @Override
  public CompletableFuture<WriteBatchResponse> write(
      String endpoint, WriteBatchRequestView request, Deadline deadline) {
    return call(WireMethods.WRITE_BATCH, () -> channels.channel(endpoint), request, deadline);
  }

  @Override
  public CompletableFuture<ForwardBatchResponse> forward(
      String endpoint, String identity, ForwardBatchRequestView request, Deadline deadline) {
    return call(
        WireMethods.FORWARD_BATCH,
        () -> channels.peerChannel(endpoint, identity),
        request,
        deadline);
  }

  private <Q, R> CompletableFuture<R> call(
      MethodDescriptor<Q, R> method,
      Supplier<ManagedChannel> channel,
      Q request,
      Deadline deadline) {
    CompletableFuture<R> result = new CompletableFuture<>();
    ListenableFuture<R> call;
    try {
      call =
          ClientCalls.futureUnaryCall(
              channel.get().newCall(method, CallOptions.DEFAULT.withDeadline(deadline)), request);
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
      return result;
    }
    // Cancelling the future (a revoked batch) cancels the call, so the service stops working on
    // it and the transport frees its buffers.
    ListenableFuture<R> started = call;
    result.whenComplete(
        (response, error) -> {
          if (result.isCancelled()) {
            started.cancel(true);
          }
        });
    Futures.addCallback(
        call,
        new FutureCallback<R>() {
          @Override
          public void onSuccess(R response) {
            result.complete(response);
          }

          @Override
          public void onFailure(Throwable t) {
            result.completeExceptionally(t);
          }
        },
        MoreExecutors.directExecutor());
    return result;
  }
}

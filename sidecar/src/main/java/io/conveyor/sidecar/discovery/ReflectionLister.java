package io.conveyor.sidecar.discovery;

import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Lists the services of a gRPC server through server reflection: v1 first, then the older v1alpha
 * that many servers still serve alone.
 */
final class ReflectionLister {

  private ReflectionLister() {}

  /**
   * The fully-qualified service names the server lists.
   *
   * @throws StatusRuntimeException UNIMPLEMENTED when the server has no reflection, or whatever
   *     status the call ended with (UNAVAILABLE for a peer that is not gRPC, DEADLINE_EXCEEDED for
   *     a silent one)
   */
  static List<String> listServices(Channel channel, Deadline deadline) {
    try {
      return listV1(channel, deadline);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        throw e;
      }
      return listV1Alpha(channel, deadline);
    }
  }

  private static List<String> listV1(Channel channel, Deadline deadline) {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)
            .withDeadline(deadline)
            .serverReflectionInfo(
                collector(
                    names,
                    response ->
                        response.getListServicesResponse().getServiceList().stream()
                            .map(io.grpc.reflection.v1.ServiceResponse::getName)
                            .toList()));
    requests.onNext(
        io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return await(names, deadline);
  }

  @SuppressWarnings("deprecation")
  private static List<String> listV1Alpha(Channel channel, Deadline deadline) {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> requests =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)
            .withDeadline(deadline)
            .serverReflectionInfo(
                collector(
                    names,
                    response ->
                        response.getListServicesResponse().getServiceList().stream()
                            .map(io.grpc.reflection.v1alpha.ServiceResponse::getName)
                            .toList()));
    requests.onNext(
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
            .setListServices("*")
            .build());
    requests.onCompleted();
    return await(names, deadline);
  }

  /** Completes {@code names} from the first response, or with the stream's error. */
  private static <R> StreamObserver<R> collector(
      CompletableFuture<List<String>> names, Function<R, List<String>> extract) {
    return new StreamObserver<>() {
      @Override
      public void onNext(R response) {
        names.complete(extract.apply(response));
      }

      @Override
      public void onError(Throwable t) {
        names.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        names.complete(List.of());
      }
    };
  }

  private static List<String> await(CompletableFuture<List<String>> names, Deadline deadline) {
    try {
      // The call has the deadline too; the extra second only guards against a lost callback.
      return names.get(deadline.timeRemaining(TimeUnit.MILLISECONDS) + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (TimeoutException e) {
      throw Status.DEADLINE_EXCEEDED
          .withDescription("reflection did not answer")
          .asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }
}

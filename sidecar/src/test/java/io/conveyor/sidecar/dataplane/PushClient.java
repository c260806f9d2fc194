package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A test source: the public PushRecords API, with every response kept for assertions. */
final class PushClient {

  final BlockingQueue<PushResponse> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<PushRequest> requests;

  PushClient(Channel channel) {
    requests =
        SidecarDataPlaneGrpc.newStub(channel)
            .pushRecords(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PushResponse response) {
                    responses.add(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    closed.complete(Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    closed.complete(Status.OK);
                  }
                });
  }

  PushClient init(String pipeline, String source) {
    requests.onNext(
        PushRequest.newBuilder()
            .setInit(PushInit.newBuilder().setPipeline(pipeline).setSourceName(source))
            .build());
    return this;
  }

  PushClient send(RecordBatch batch) {
    requests.onNext(PushRequest.newBuilder().setBatch(batch).build());
    return this;
  }

  void complete() {
    requests.onCompleted();
  }

  PushResponse next() throws InterruptedException {
    PushResponse response = responses.poll(10, TimeUnit.SECONDS);
    if (response == null) {
      throw new AssertionError("no response from the sidecar within 10 s");
    }
    return response;
  }

  /** The next response that is an ack (other kinds are collected into {@code others}). */
  PushResponse nextAck(List<PushResponse> others) throws InterruptedException {
    while (true) {
      PushResponse response = next();
      if (response.hasAck()) {
        return response;
      }
      others.add(response);
    }
  }

  PushResponse nextAck() throws InterruptedException {
    return nextAck(new ArrayList<>());
  }

  Status awaitClosed() throws Exception {
    return closed.get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
  }
}

package io.conveyor.examples.bench;

import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.examples.support.RecordGenerator;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pushes one record at a time into a sidecar, as a source would, until one is DELIVERED: the
 * sidecar accepted the stream (it holds an assignment), and the record went through the pipeline to
 * its sink. Each attempt is a fresh PushRecords stream with a deadline; a failed attempt (the
 * sidecar not listening yet, FAILED_PRECONDITION while it has no assignment, a retryable outcome)
 * is followed by the next after {@code interval}, until {@code timeout}.
 */
final class FirstRecordProbe {

  private final Channel channel;
  private final String sourceName;
  private final RecordGenerator records;
  private final AtomicLong sequence = new AtomicLong();

  FirstRecordProbe(Channel channel, String sourceName) {
    this.channel = channel;
    this.sourceName = sourceName;
    this.records = new RecordGenerator("startup-bench", 0, 64, 1, Clock.systemUTC());
  }

  /**
   * Tries until a record is delivered.
   *
   * @return nanoTime when the first delivered record's ack arrived
   * @throws TimeoutException when none was delivered within {@code timeout}
   */
  long awaitDelivered(Duration interval, Duration timeout, Duration attemptTimeout)
      throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no attempt";
    while (System.nanoTime() < deadline) {
      CompletableFuture<String> attempt = pushOne(attemptTimeout);
      try {
        String outcome = attempt.get(attemptTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        if (outcome.equals(RecordOutcome.RECORD_OUTCOME_DELIVERED.name())) {
          return System.nanoTime();
        }
        last = outcome;
      } catch (ExecutionException e) {
        last = e.getCause().toString();
      }
      Thread.sleep(interval.toMillis());
    }
    throw new TimeoutException("no record delivered within " + timeout + "; last: " + last);
  }

  /** One stream, one batch of one record; completes with the record's outcome or fails. */
  private CompletableFuture<String> pushOne(Duration attemptTimeout) {
    CompletableFuture<String> result = new CompletableFuture<>();
    long seq = nextSequence();
    SidecarDataPlaneGrpc.newStub(channel)
        .withDeadlineAfter(attemptTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .pushRecords(
            new ClientResponseObserver<PushRequest, PushResponse>() {
              private ClientCallStreamObserver<PushRequest> requests;

              @Override
              public void beforeStart(ClientCallStreamObserver<PushRequest> stream) {
                requests = stream;
              }

              @Override
              public void onNext(PushResponse response) {
                switch (response.getKindCase()) {
                  case READY ->
                      requests.onNext(
                          PushRequest.newBuilder()
                              .setBatch(
                                  RecordBatch.newBuilder()
                                      .setBatchId("probe-" + seq)
                                      .addRecords(records.record(seq)))
                              .build());
                  case ACK -> {
                    var outcomes = response.getAck().getResult().getOutcomesList();
                    result.complete(outcomes.isEmpty() ? "no outcome" : outcomes.get(0).name());
                    requests.onCompleted();
                  }
                  default -> {}
                }
              }

              @Override
              public void onError(Throwable t) {
                result.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                result.completeExceptionally(new IllegalStateException("stream ended, no ack"));
              }
            })
        .onNext(
            PushRequest.newBuilder()
                .setInit(
                    PushInit.newBuilder()
                        .setPipeline("demo")
                        .setSourceName(sourceName)
                        .setSourceInstance("startup-bench"))
                .build());
    return result;
  }

  /** The demo transform filters sequences ending in 9: skip them, so a delivery is possible. */
  private long nextSequence() {
    long seq = sequence.getAndIncrement();
    return seq % 10 == 9 ? sequence.getAndIncrement() : seq;
  }
}

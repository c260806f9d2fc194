package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.Backpressure;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.CreditGrant;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushReady;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.RoutingTable;
import io.conveyor.sidecar.wire.v1.PushRequestView;
import io.conveyor.sidecar.wire.v1.RecordBatchView;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One {@code PushRecords} stream from a local source.
 *
 * <p>Flow control is by credits, enforced with gRPC's manual flow control: the sidecar asks the
 * transport for exactly as many messages as it granted credits, so a source that ignores its
 * credits is held back by HTTP/2 flow control rather than buffered in memory. Each ack returns one
 * credit; while the sidecar's in-flight bytes are over the limit, acks return none (the credits are
 * withheld) and a {@link Backpressure} message says so; below the low watermark the withheld
 * credits come back in a {@link CreditGrant}.
 *
 * <p>Inbound callbacks are serialized by gRPC; acks complete on other threads, so every use of the
 * outbound stream and of the credit state holds this object's lock.
 */
final class PushStream implements StreamObserver<PushRequestView> {

  private static final Logger log = LoggerFactory.getLogger(PushStream.class);

  private final DataPlane plane;
  private final ServerCallStreamObserver<PushResponse> out;

  private String pipeline;
  private boolean initialized;
  private boolean closed;
  private boolean halfClosed;
  private Status ending;
  private int pendingAcks;
  // Written under the lock; read without it by relieve()'s fast path.
  private volatile boolean withholding;
  private int withheld;

  PushStream(DataPlane plane, ServerCallStreamObserver<PushResponse> out) {
    this.plane = plane;
    this.out = out;
    out.disableAutoRequest();
    out.setOnCancelHandler(this::cancelled);
    out.request(1); // the init message
  }

  @Override
  public void onNext(PushRequestView message) {
    if (!initialized) {
      if (!message.hasInit()) {
        fail(
            Status.INVALID_ARGUMENT.withDescription(
                "the first message of PushRecords must be init (pipeline, source_name)"));
        return;
      }
      init(message.getInit());
      return;
    }
    if (!message.hasBatch()) {
      endAfterPendingAcks(
          Status.INVALID_ARGUMENT.withDescription("after init, every message must be a batch"));
      return;
    }
    accept(message.getBatch());
  }

  private void init(PushInit init) {
    if (plane.lifecycle().isDraining() || plane.lifecycle().isStarting()) {
      fail(
          Status.UNAVAILABLE.withDescription(
              "sidecar "
                  + plane.sidecarId()
                  + " is "
                  + (plane.lifecycle().isDraining()
                      ? "draining"
                      : "starting and not registered yet")));
      return;
    }
    RoutingTable table = plane.routes().table();
    Optional<PipelineRoute> route;
    if (!init.getPipeline().isEmpty()) {
      route = table.pipeline(init.getPipeline());
      if (route.isEmpty()) {
        plane.rejected("not_assigned");
        plane.requestDiscovery();
        fail(
            Status.FAILED_PRECONDITION.withDescription(
                "pipeline '"
                    + init.getPipeline()
                    + "' is not assigned to sidecar "
                    + plane.sidecarId()
                    + " (assigned: "
                    + table.pipelineNames()
                    + ")"));
        return;
      }
    } else {
      List<PipelineRoute> candidates = table.pipelinesWithLocalSource(init.getSourceName());
      if (candidates.size() != 1) {
        plane.rejected("not_assigned");
        plane.requestDiscovery();
        fail(
            Status.FAILED_PRECONDITION.withDescription(
                candidates.isEmpty()
                    ? "no pipeline with source '"
                        + init.getSourceName()
                        + "' running in this pod is assigned to sidecar "
                        + plane.sidecarId()
                        + " (assigned: "
                        + table.pipelineNames()
                        + ")"
                    : "pipelines "
                        + candidates.stream().map(PipelineRoute::pipeline).toList()
                        + " all have source '"
                        + init.getSourceName()
                        + "': name one in init.pipeline"));
        return;
      }
      route = Optional.of(candidates.get(0));
    }
    PipelineRoute r = route.get();
    if (!init.getSourceName().isEmpty() && !r.source().name().equals(init.getSourceName())) {
      fail(
          Status.FAILED_PRECONDITION.withDescription(
              "pipeline '"
                  + r.pipeline()
                  + "' has source '"
                  + r.source().name()
                  + "', not '"
                  + init.getSourceName()
                  + "'"));
      return;
    }
    if (!r.source().isLocal()) {
      plane.requestDiscovery();
      fail(
          Status.FAILED_PRECONDITION.withDescription(
              "the source '"
                  + r.source().name()
                  + "' of pipeline '"
                  + r.pipeline()
                  + "' has not been discovered in this pod yet (it must serve conveyor.etl.v1.SourceService)"));
      return;
    }
    int credits = plane.config().pushCredits();
    synchronized (this) {
      pipeline = r.pipeline();
      initialized = true;
      plane.pushStreams().add(this);
      out.onNext(
          PushResponse.newBuilder()
              .setReady(
                  PushReady.newBuilder()
                      .setPipeline(pipeline)
                      .setCredits(credits)
                      .setMaxBatchSize(r.delivery().maxBatchSize())
                      .setMaxMessageBytes(plane.config().maxMessageBytes()))
              .build());
    }
    requestOutsideLock(credits);
    try (MDC.MDCCloseable p = MDC.putCloseable("pipeline", pipeline)) {
      log.info(
          "source '{}' ({}) opened a push stream", init.getSourceName(), init.getSourceInstance());
    }
  }

  private void accept(RecordBatchView batch) {
    Status endingWith = ending();
    if (endingWith != null) {
      // Sent on the credits the source had before the stream began to end: answered, not run.
      ack(
          batch.getBatchId(),
          allFailed(
              batch.getRecordsCount(), "the push stream is ending: " + endingWith.getDescription()),
          0,
          0);
      return;
    }
    if (batch.getSerializedSize() > plane.config().maxMessageBytes()) {
      plane.rejected("too_large");
      endAfterPendingAcks(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "batch '"
                  + batch.getBatchId()
                  + "' is "
                  + batch.getSerializedSize()
                  + " bytes, over this sidecar's MAX_MESSAGE_BYTES of "
                  + plane.config().maxMessageBytes()
                  + "; send smaller batches"));
      return;
    }
    String batchId = batch.getBatchId();
    List<ByteString> records = batch.getRecordsList();
    if (records.isEmpty()) {
      ack(batchId, new BatchOutcome(0), 0, 0);
      return;
    }
    // The batch's wire size, already computed (and memoized) for the size check above.
    long bytes = batch.getSerializedSize();
    // Counted in flight before the draining check: the shutdown sets draining, then waits for
    // nothing to be in flight. A batch counted before that wait is waited for; one counted after
    // it sees draining here and is answered without being processed. No batch is processed
    // after the wait ended, when the stream may already be closed and its ack could not go out.
    synchronized (this) {
      pendingAcks++;
      if (plane.inFlight().acquire(bytes) && !withholding) {
        withholding = true;
        plane.backpressure();
        send(backpressure(true));
      }
    }
    if (plane.lifecycle().isDraining()) {
      plane.rejected("draining");
      ack(
          batchId,
          allFailed(
              records.size(), "sidecar " + plane.sidecarId() + " is draining; send again later"),
          bytes,
          1);
      return;
    }
    Optional<PipelineRoute> route = plane.routes().table().pipeline(pipeline);
    if (route.isEmpty()) {
      // Revoked while the stream was open: answer this batch, then end the stream so the source
      // re-opens (and is told what is assigned now).
      plane.rejected("not_assigned");
      ack(
          batchId,
          allFailed(records.size(), "pipeline '" + pipeline + "' was revoked from this sidecar"),
          bytes,
          1);
      endAfterPendingAcks(
          Status.FAILED_PRECONDITION.withDescription(
              "pipeline '" + pipeline + "' is no longer assigned to this sidecar"));
      return;
    }
    long started = System.nanoTime();
    PipelineRoute r = route.get();
    plane
        .executor()
        .deliver(
            r,
            r.entryIndex(),
            records,
            Deadline.after(r.delivery().batchTimeout().toNanos(), TimeUnit.NANOSECONDS))
        .whenComplete(
            (outcome, error) -> {
              BatchOutcome result =
                  error == null ? outcome : allFailed(records.size(), "internal error: " + error);
              long nanos = System.nanoTime() - started;
              plane.pushLatency(pipeline).record(nanos, TimeUnit.NANOSECONDS);
              if (log.isDebugEnabled()) {
                try (MDC.MDCCloseable p = MDC.putCloseable("pipeline", pipeline)) {
                  log.debug(
                      "batch {} of {} records answered in {} us: delivered={} filtered={} failed={} dead_lettered={}",
                      batchId,
                      records.size(),
                      nanos / 1000,
                      result.count(RecordOutcome.RECORD_OUTCOME_DELIVERED),
                      result.count(RecordOutcome.RECORD_OUTCOME_FILTERED),
                      result.count(RecordOutcome.RECORD_OUTCOME_FAILED),
                      result.count(RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED));
                }
              }
              ack(batchId, result, bytes, 1);
            });
  }

  /**
   * Sends an ack and returns a credit (unless withheld), then releases the batch's {@code bytes}.
   *
   * <p>In that order: releasing is what lets a draining sidecar go on to close its push streams, so
   * a batch must be answered before it stops counting as in flight — released first, a concurrent
   * shutdown could close the stream between the two and the ack of a batch the sinks already
   * confirmed would never be sent (its source would send it again: a duplicate).
   */
  private void ack(String batchId, BatchOutcome outcome, long bytes, int pendingDone) {
    int credits = 0;
    synchronized (this) {
      pendingAcks -= pendingDone;
      if (!closed) {
        // A stream that is ending takes no more batches: its answers return no credit.
        if (ending != null) {
          credits = 0;
        } else if (withholding) {
          withheld++;
        } else {
          credits = 1;
        }
        send(
            PushResponse.newBuilder()
                .setAck(
                    BatchAck.newBuilder()
                        .setBatchId(batchId)
                        .setResult(outcome.toProto())
                        .setCredits(credits))
                .build());
        completeIfDone();
      }
    }
    requestOutsideLock(credits);
    if (bytes > 0 && plane.inFlight().release(bytes)) {
      plane.pushStreams().relieve();
    }
  }

  /** Called when in-flight bytes fell under the low watermark: give back withheld credits. */
  void relieve() {
    if (!withholding) {
      return; // the common case, read without the lock: this stream has nothing withheld
    }
    int credits;
    synchronized (this) {
      if (closed || !withholding || !plane.inFlight().underLowWatermark()) {
        return;
      }
      withholding = false;
      send(backpressure(false));
      credits = ending == null ? withheld : 0;
      withheld = 0;
      if (credits > 0) {
        send(
            PushResponse.newBuilder()
                .setCredit(CreditGrant.newBuilder().setCredits(credits))
                .build());
      }
    }
    requestOutsideLock(credits);
  }

  /**
   * Asks the transport for more batches. Never under this stream's lock: with the server's direct
   * executor, the transport may deliver a waiting batch at once on this thread, and answering it
   * (drain, revoke) can release bytes and relieve every other stream — taking their locks while
   * holding this one, in the opposite order of a thread doing the same for another stream.
   */
  private void requestOutsideLock(int credits) {
    if (credits > 0) {
      out.request(credits);
    }
  }

  private PushResponse backpressure(boolean active) {
    return PushResponse.newBuilder()
        .setBackpressure(
            Backpressure.newBuilder()
                .setActive(active)
                .setInFlightBytes(plane.inFlight().bytes())
                .setLimitBytes(plane.inFlight().limitBytes()))
        .build();
  }

  @Override
  public void onError(Throwable t) {
    cancelled();
  }

  @Override
  public synchronized void onCompleted() {
    halfClosed = true;
    completeIfDone();
  }

  /**
   * Ends the stream with {@code status} once every batch already accepted on it has been answered:
   * ending it at once would drop the acks of batches the pipeline is still delivering, and their
   * source would send them again although they arrive.
   */
  private synchronized void endAfterPendingAcks(Status status) {
    if (closed || ending != null) {
      return;
    }
    ending = status;
    completeIfDone();
  }

  private synchronized Status ending() {
    return ending;
  }

  private void completeIfDone() {
    if (closed || pendingAcks > 0) {
      return;
    }
    if (ending != null) {
      fail(ending);
    } else if (halfClosed) {
      closed = true;
      plane.pushStreams().remove(this);
      out.onCompleted();
    }
  }

  private synchronized void cancelled() {
    closed = true;
    plane.pushStreams().remove(this);
  }

  private synchronized void fail(Status status) {
    if (closed) {
      return;
    }
    closed = true;
    plane.pushStreams().remove(this);
    out.onError(status.asRuntimeException());
  }

  /** Ends the stream because the sidecar is stopping (after in-flight batches were answered). */
  synchronized void shutdown() {
    fail(Status.UNAVAILABLE.withDescription("sidecar " + plane.sidecarId() + " is shutting down"));
  }

  private void send(PushResponse response) {
    if (!closed) {
      out.onNext(response);
    }
  }

  private BatchOutcome allFailed(int size, String message) {
    return BatchOutcome.allFailed(size, FailureKind.FAILURE_KIND_RETRYABLE, "sidecar", message);
  }
}

package io.conveyor.examples.source;

import io.conveyor.etl.v1.Backpressure;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.CreditGrant;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushReady;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.examples.transform.DemoTransform;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;

/**
 * A scripted SidecarDataPlane for pusher tests. It answers init with PushReady (or errors), acks
 * batches (at once or after a delay) with DemoTransform's filter rule and scripted failures, and
 * can withhold credits under backpressure, drop a stream or swallow a batch. It checks the pusher's
 * credit discipline and records what arrived how often.
 */
final class FakeSidecar extends SidecarDataPlaneGrpc.SidecarDataPlaneImplBase
    implements AutoCloseable {

  // Script (set before the pusher starts).
  volatile int credits = 4;
  volatile int failPreconditionInits = 0;
  volatile Status initError = null;
  volatile long ackDelayMillis = 0;
  volatile LongPredicate failOnce = s -> false;
  volatile LongPredicate reject = s -> false;
  volatile LongPredicate deadLetter = s -> false;

  /**
   * The stream is dropped (UNAVAILABLE) when this batch (1-based, over all streams) arrives; it is
   * written first.
   */
  volatile int dropOnBatch = -1;

  /** A batch of more records ends the stream with RESOURCE_EXHAUSTED, as an oversize one does. */
  volatile int maxRecordsPerBatch = Integer.MAX_VALUE;

  /**
   * The largest message announced in PushReady (0: none). Like the real sidecar, a batch over it
   * ends the stream with RESOURCE_EXHAUSTED, and one over twice it — grpc-java's transport limit
   * there — with CANCELLED, as the transport resets a bidi stream whose later message is too large.
   */
  volatile long maxMessageBytes = 0;

  /** Batches larger than {@link #maxMessageBytes} that reached this fake. */
  final AtomicInteger oversizeBatches = new AtomicInteger();

  /** This batch is never acknowledged. */
  volatile int swallowBatch = -1;

  /** From this batch on, the stream's acks return no credits until the backpressure ends. */
  volatile int backpressureOnBatch = -1;

  volatile long backpressureMillis = 100;

  // Observations.
  final AtomicInteger inits = new AtomicInteger();
  final List<PushInit> initMessages = new CopyOnWriteArrayList<>();
  final AtomicInteger batches = new AtomicInteger();
  final AtomicInteger creditViolations = new AtomicInteger();
  final AtomicInteger maxOutstanding = new AtomicInteger();
  final Map<Long, Integer> arrivals = new ConcurrentHashMap<>();
  final Set<Long> failedOnce = ConcurrentHashMap.newKeySet();
  final Set<Long> written = ConcurrentHashMap.newKeySet();
  final AtomicLong duplicatesWritten = new AtomicLong();

  /** Sequences of batches that were in flight (unacknowledged) when a stream ended. */
  final Set<Long> unackedAtStreamEnd = ConcurrentHashMap.newKeySet();

  final AtomicInteger backpressureEpisodes = new AtomicInteger();

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @Override
  public StreamObserver<PushRequest> pushRecords(StreamObserver<PushResponse> responses) {
    return new Conn(responses);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }

  /** Sequences that arrived more than once. */
  Set<Long> resentSequences() {
    Set<Long> resent = ConcurrentHashMap.newKeySet();
    arrivals.forEach(
        (s, n) -> {
          if (n > 1) {
            resent.add(s);
          }
        });
    return resent;
  }

  long totalArrivals() {
    return arrivals.values().stream().mapToLong(Integer::longValue).sum();
  }

  private final class Conn implements StreamObserver<PushRequest> {
    private final StreamObserver<PushResponse> out;
    private final Map<String, List<Long>> unacked = new LinkedHashMap<>();
    private boolean open = true;
    private boolean initialized;
    private int available;
    private boolean backpressure;
    private int withheld;

    Conn(StreamObserver<PushResponse> out) {
      this.out = out;
    }

    @Override
    public synchronized void onNext(PushRequest request) {
      if (!open) {
        return;
      }
      if (!initialized) {
        if (!request.hasInit()) {
          end(Status.INVALID_ARGUMENT.withDescription("first message must be init"));
          return;
        }
        inits.incrementAndGet();
        initMessages.add(request.getInit());
        if (initError != null) {
          end(initError);
          return;
        }
        synchronized (FakeSidecar.this) {
          if (failPreconditionInits > 0) {
            failPreconditionInits--;
            end(Status.FAILED_PRECONDITION.withDescription("no pipeline assigned yet"));
            return;
          }
        }
        initialized = true;
        available = credits;
        out.onNext(
            PushResponse.newBuilder()
                .setReady(
                    PushReady.newBuilder()
                        .setPipeline("demo")
                        .setCredits(credits)
                        .setMaxBatchSize(10_000)
                        .setMaxMessageBytes(maxMessageBytes))
                .build());
        return;
      }
      RecordBatch batch = request.getBatch();
      long size = request.getSerializedSize();
      if (maxMessageBytes > 0 && size > maxMessageBytes) {
        oversizeBatches.incrementAndGet();
        end(
            size > 2 * maxMessageBytes
                ? Status.CANCELLED.withDescription(
                    "RST_STREAM closed stream. HTTP/2 error code: CANCEL")
                : Status.RESOURCE_EXHAUSTED.withDescription(
                    "batch of " + size + " bytes is over MAX_MESSAGE_BYTES of " + maxMessageBytes));
        return;
      }
      if (batch.getRecordsCount() > maxRecordsPerBatch) {
        end(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "batch of " + batch.getSerializedSize() + " bytes is over MAX_MESSAGE_BYTES"));
        return;
      }
      int number = batches.incrementAndGet();
      available--;
      if (available < 0) {
        creditViolations.incrementAndGet();
      }
      List<Long> sequences = new ArrayList<>(batch.getRecordsCount());
      for (Record r : batch.getRecordsList()) {
        long s = r.getId().getSequence();
        sequences.add(s);
        arrivals.merge(s, 1, Integer::sum);
      }
      unacked.put(batch.getBatchId(), sequences);
      maxOutstanding.accumulateAndGet(unacked.size(), Math::max);
      if (number == dropOnBatch) {
        // The batch made it to the sink, but its ack is lost with the stream.
        sequences.stream().filter(q -> !DemoTransform.isFiltered(q)).forEach(this::write);
        end(Status.UNAVAILABLE.withDescription("sidecar dropped the stream"));
        return;
      }
      if (number == swallowBatch) {
        return;
      }
      if (number == backpressureOnBatch) {
        backpressure = true;
        backpressureEpisodes.incrementAndGet();
        out.onNext(
            PushResponse.newBuilder()
                .setBackpressure(
                    Backpressure.newBuilder()
                        .setActive(true)
                        .setInFlightBytes(100)
                        .setLimitBytes(100))
                .build());
        scheduler.schedule(this::endBackpressure, backpressureMillis, TimeUnit.MILLISECONDS);
      }
      long delay = ackDelayMillis;
      if (delay == 0) {
        ack(batch);
      } else {
        scheduler.schedule(() -> ack(batch), delay, TimeUnit.MILLISECONDS);
      }
    }

    private synchronized void ack(RecordBatch batch) {
      if (!open || unacked.remove(batch.getBatchId()) == null) {
        return;
      }
      BatchResult.Builder result = BatchResult.newBuilder();
      for (int i = 0; i < batch.getRecordsCount(); i++) {
        long s = batch.getRecords(i).getId().getSequence();
        if (DemoTransform.isFiltered(s)) {
          result.addOutcomes(RecordOutcome.RECORD_OUTCOME_FILTERED);
        } else if (reject.test(s)) {
          result.addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED);
          result.addErrors(
              RecordError.newBuilder().setIndex(i).setKind(FailureKind.FAILURE_KIND_REJECTED));
        } else if (failOnce.test(s) && failedOnce.add(s)) {
          result.addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED);
          result.addErrors(
              RecordError.newBuilder()
                  .setIndex(i)
                  .setKind(FailureKind.FAILURE_KIND_RETRYABLE)
                  .setStage("fake"));
        } else if (deadLetter.test(s)) {
          result.addOutcomes(RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED);
        } else {
          write(s);
          result.addOutcomes(RecordOutcome.RECORD_OUTCOME_DELIVERED);
        }
      }
      int returned = backpressure ? 0 : 1;
      if (backpressure) {
        withheld++;
      }
      available += returned;
      out.onNext(
          PushResponse.newBuilder()
              .setAck(
                  BatchAck.newBuilder()
                      .setBatchId(batch.getBatchId())
                      .setResult(result)
                      .setCredits(returned))
              .build());
    }

    private synchronized void endBackpressure() {
      if (!open) {
        return;
      }
      backpressure = false;
      out.onNext(
          PushResponse.newBuilder()
              .setBackpressure(Backpressure.newBuilder().setActive(false))
              .build());
      out.onNext(
          PushResponse.newBuilder()
              .setCredit(CreditGrant.newBuilder().setCredits(withheld))
              .build());
      available += withheld;
      withheld = 0;
    }

    private void write(long s) {
      if (!written.add(s)) {
        duplicatesWritten.incrementAndGet();
      }
    }

    private void end(Status status) {
      closeBook();
      out.onError(status.asRuntimeException());
    }

    private void closeBook() {
      open = false;
      unacked.values().forEach(unackedAtStreamEnd::addAll);
      unacked.clear();
    }

    @Override
    public synchronized void onError(Throwable t) {
      if (open) {
        closeBook();
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (open) {
        closeBook();
        out.onCompleted();
      }
    }
  }
}

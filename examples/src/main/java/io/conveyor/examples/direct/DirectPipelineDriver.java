package io.conveyor.examples.direct;

import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.ProcessBatchRequest;
import io.conveyor.etl.v1.ProcessBatchResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.examples.support.DeliveryBook;
import io.conveyor.examples.support.DeliveryBook.Outstanding;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.LoopExecutors;
import io.conveyor.examples.support.LoopWakeup;
import io.conveyor.examples.support.Pacer;
import io.conveyor.examples.support.RecordGenerator;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's baseline: the source side calls the transform and then the sink itself, with
 * grpc-java async stubs, no sidecar in between.
 *
 * <p>It is built to be compared fairly with {@link io.conveyor.examples.source.RecordPusher}: the
 * same {@link RecordGenerator} records, the same batch size, an in-flight window of {@code window}
 * batches (the pusher's is the sidecar's credits), the same {@link DeliveryBook} outcome policy and
 * retry backoff, the same single loop thread design and the same send-to-final-answer batch latency
 * histogram. Per batch it does what a sidecar must do: call the transform, keep the outputs of OK
 * records (FILTERED ones never reach the sink), call the sink with them, and fold both answers into
 * one outcome per input record. A call that fails as a whole fails its records retryably. Every
 * call has a deadline.
 *
 * <p>The channels are the caller's: the driver never shuts them down.
 */
public final class DirectPipelineDriver implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DirectPipelineDriver.class);
  private static final long TICK_MILLIS = 20;

  private final TransformServiceGrpc.TransformServiceStub transform;
  private final SinkServiceGrpc.SinkServiceStub sink;
  private final DirectSettings settings;
  private final DeliveryStats stats = new DeliveryStats();
  private final DeliveryBook book;
  private final Pacer pacer;
  private final ScheduledExecutorService loop;
  private final Context.CancellableContext calls = Context.current().withCancellation();
  private final CountDownLatch done = new CountDownLatch(1);
  private final String batchIdPrefix;

  // Loop-confined state.
  private int inFlight;
  private long batchCounter;
  private boolean started;
  private boolean closed;
  private final LoopWakeup wake;

  private volatile boolean finished;
  private volatile Throwable failure;

  public DirectPipelineDriver(
      Channel transformChannel, Channel sinkChannel, DirectSettings settings) {
    this(transformChannel, sinkChannel, settings, Clock.systemUTC(), new SplittableRandom());
  }

  public DirectPipelineDriver(
      Channel transformChannel,
      Channel sinkChannel,
      DirectSettings settings,
      Clock clock,
      RandomGenerator random) {
    this.transform = TransformServiceGrpc.newStub(transformChannel);
    this.sink = SinkServiceGrpc.newStub(sinkChannel);
    this.settings = settings;
    var workload = settings.workload();
    RecordGenerator generator =
        new RecordGenerator(
            workload.sourceId(),
            workload.partition(),
            workload.recordBytes(),
            workload.seed(),
            clock);
    this.book = new DeliveryBook(generator, workload, stats, random);
    this.pacer = new Pacer(workload.rate());
    this.batchIdPrefix =
        workload.sourceId() + "-direct-" + Long.toHexString(random.nextLong() & 0xFFFFFFL) + "-";
    this.loop = LoopExecutors.newLoop("direct-driver-" + workload.sourceId());
    this.wake = new LoopWakeup(loop, () -> run(this::pump));
  }

  /** Starts sending; returns at once. */
  public DirectPipelineDriver start() {
    post(
        () -> {
          if (started || closed) {
            return;
          }
          started = true;
          stats.started(System.nanoTime());
          LoopExecutors.scheduleUnlessStopped(
              () ->
                  loop.scheduleWithFixedDelay(
                      () -> run(this::pump), TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS));
          pump();
        });
    return this;
  }

  /**
   * Waits until every produced record has a final outcome.
   *
   * @return true when complete, false when the timeout passed (or the driver was closed) first
   * @throws IllegalStateException when the driver itself failed
   */
  public boolean awaitCompletion(Duration timeout) throws InterruptedException {
    done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    Throwable t = failure;
    if (t != null) {
      throw new IllegalStateException("direct pipeline driver failed: " + t, t);
    }
    return finished;
  }

  public boolean isComplete() {
    return finished;
  }

  public DeliveryStats stats() {
    return stats;
  }

  public DeliveryStats.Snapshot snapshot() {
    return stats.snapshot(System.nanoTime());
  }

  /** Cancels the calls in flight and stops the loop thread. */
  @Override
  public void close() {
    LoopExecutors.stop(
        loop,
        () -> {
          closed = true;
          calls.cancel(
              Status.CANCELLED.withDescription("direct driver closed").asRuntimeException());
          done.countDown();
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread

  private void pump() {
    if (closed || finished || failure != null || !started) {
      return;
    }
    long now = System.nanoTime();
    while (inFlight < settings.window()) {
      long wait = pacer.waitNanos(now);
      if (wait > 0) {
        wake.at(now + wait, now);
        break;
      }
      List<Outstanding> records = book.nextBatch(now, settings.workload().batchSize());
      if (records.isEmpty()) {
        long due = book.nextDueNanos();
        if (due != Long.MAX_VALUE) {
          wake.at(due, now);
        }
        break;
      }
      send(new Batch(batchIdPrefix + (++batchCounter), records, now));
      pacer.sent(now, records.size());
      now = System.nanoTime();
    }
    if (book.complete()) {
      finished = true;
      stats.completed(System.nanoTime());
      log.info("all {} records have an outcome: {}", book.produced(), snapshot().line());
      done.countDown();
    }
  }

  private void send(Batch batch) {
    inFlight++;
    stats.batchSent(inFlight);
    RecordBatch.Builder records = RecordBatch.newBuilder().setBatchId(batch.id);
    for (Outstanding o : batch.records) {
      records.addRecords(o.record());
    }
    ProcessBatchRequest request =
        ProcessBatchRequest.newBuilder()
            .setBatch(records)
            .setPipeline(settings.pipeline())
            .setStage(settings.transformStage())
            .build();
    calls.run(
        () ->
            transform
                .withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .processBatch(
                    request,
                    new Answer<>(
                        response -> onTransformed(batch, response),
                        status -> {
                          log.debug("transform call for batch {} failed: {}", batch.id, status);
                          finish(
                              batch,
                              allFailed(batch.records.size(), settings.transformStage(), status));
                        })));
  }

  private void onTransformed(Batch batch, ProcessBatchResponse response) {
    int n = batch.records.size();
    if (response.getResultsCount() != n) {
      finish(
          batch,
          allFailed(
              n,
              settings.transformStage(),
              Status.INTERNAL.withDescription(
                  "transform answered "
                      + response.getResultsCount()
                      + " results for "
                      + n
                      + " records")));
      return;
    }
    List<Record> outputs = new ArrayList<>(n);
    List<Integer> owners = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      TransformResult result = response.getResults(i);
      switch (result.getStatus()) {
        case STATUS_OK -> {
          if (result.getOutputsCount() == 0) {
            batch.outcome(i, RecordOutcome.RECORD_OUTCOME_FILTERED);
          } else {
            for (Record output : result.getOutputsList()) {
              outputs.add(output);
              owners.add(i);
            }
          }
        }
        case STATUS_FILTERED -> batch.outcome(i, RecordOutcome.RECORD_OUTCOME_FILTERED);
        case STATUS_FAILED ->
            batch.failed(i, result.getRetryable(), settings.transformStage(), result.getError());
        default -> batch.failed(i, true, settings.transformStage(), "no status");
      }
    }
    if (outputs.isEmpty()) {
      finish(batch, batch.result());
      return;
    }
    WriteBatchRequest request =
        WriteBatchRequest.newBuilder()
            .setBatch(RecordBatch.newBuilder().setBatchId(batch.id).addAllRecords(outputs))
            .setPipeline(settings.pipeline())
            .setStage(settings.sinkStage())
            .build();
    calls.run(
        () ->
            sink.withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .writeBatch(
                    request,
                    new Answer<>(
                        written -> onWritten(batch, owners, written),
                        status -> {
                          log.debug("sink call for batch {} failed: {}", batch.id, status);
                          for (int owner : owners) {
                            batch.failed(owner, true, settings.sinkStage(), status.toString());
                          }
                          finish(batch, batch.result());
                        })));
  }

  private void onWritten(Batch batch, List<Integer> owners, WriteBatchResponse response) {
    boolean sizeMatches = response.getResultsCount() == owners.size();
    for (int j = 0; j < owners.size(); j++) {
      int owner = owners.get(j);
      if (!sizeMatches) {
        batch.failed(owner, true, settings.sinkStage(), "sink answered a wrong number of results");
        continue;
      }
      SinkResult result = response.getResults(j);
      if (result.getStatus() == SinkResult.Status.STATUS_OK) {
        batch.deliveredOutput(owner);
      } else {
        batch.failed(
            owner,
            result.getStatus() != SinkResult.Status.STATUS_FAILED || result.getRetryable(),
            settings.sinkStage(),
            result.getError());
      }
    }
    finish(batch, batch.result());
  }

  private void finish(Batch batch, BatchResult result) {
    inFlight--;
    long now = System.nanoTime();
    stats.batchAnswered(now - batch.sentNanos, inFlight);
    book.onResult(batch.records, result, now);
    pump();
  }

  private static BatchResult allFailed(int n, String stage, Status status) {
    BatchResult.Builder result = BatchResult.newBuilder();
    for (int i = 0; i < n; i++) {
      result.addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED);
      result.addErrors(
          RecordError.newBuilder()
              .setIndex(i)
              .setKind(FailureKind.FAILURE_KIND_RETRYABLE)
              .setMessage(status.getCode() + ": " + status.getDescription())
              .setStage(stage));
    }
    return result.build();
  }

  private void run(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      if (failure == null && !finished) {
        log.error("direct pipeline driver failed", e);
        failure = e;
        calls.cancel(e);
        done.countDown();
      }
    }
  }

  /** Schedules on the loop; a loop shutting down (close) drops the task. */
  private void post(Runnable task) {
    try {
      loop.execute(() -> run(task));
    } catch (RejectedExecutionException closedAlready) {
      // Late answers after close are dropped.
    }
  }

  /** A unary call's answer, posted to the loop thread. */
  private final class Answer<T> implements StreamObserver<T> {
    private final Consumer<T> onValue;
    private final Consumer<Status> onFailure;
    private T value;

    Answer(Consumer<T> onValue, Consumer<Status> onFailure) {
      this.onValue = onValue;
      this.onFailure = onFailure;
    }

    @Override
    public void onNext(T response) {
      value = response;
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      post(() -> onFailure.accept(status));
    }

    @Override
    public void onCompleted() {
      T response = value;
      post(() -> onValue.accept(response));
    }
  }

  /**
   * One batch on its way through transform and sink, and the outcome of each of its input records
   * as far as known. An input with several outputs is delivered once all of them are.
   */
  private static final class Batch {
    final String id;
    final List<Outstanding> records;
    final long sentNanos;
    private final RecordOutcome[] outcomes;
    private final FailureKind[] kinds;
    private final String[] messages;
    private final String[] stages;

    Batch(String id, List<Outstanding> records, long sentNanos) {
      this.id = id;
      this.records = records;
      this.sentNanos = sentNanos;
      int n = records.size();
      this.outcomes = new RecordOutcome[n];
      this.kinds = new FailureKind[n];
      this.messages = new String[n];
      this.stages = new String[n];
    }

    void outcome(int i, RecordOutcome outcome) {
      outcomes[i] = outcome;
    }

    void deliveredOutput(int i) {
      if (outcomes[i] == null) {
        outcomes[i] = RecordOutcome.RECORD_OUTCOME_DELIVERED;
      }
    }

    /** A failure wins over delivered outputs; a rejection wins over a retryable failure. */
    void failed(int i, boolean retryable, String stage, String message) {
      FailureKind kind =
          retryable ? FailureKind.FAILURE_KIND_RETRYABLE : FailureKind.FAILURE_KIND_REJECTED;
      if (outcomes[i] == RecordOutcome.RECORD_OUTCOME_FAILED
          && kinds[i] == FailureKind.FAILURE_KIND_REJECTED) {
        return;
      }
      outcomes[i] = RecordOutcome.RECORD_OUTCOME_FAILED;
      kinds[i] = kind;
      stages[i] = stage;
      messages[i] = message;
    }

    BatchResult result() {
      BatchResult.Builder result = BatchResult.newBuilder();
      for (int i = 0; i < outcomes.length; i++) {
        RecordOutcome outcome =
            outcomes[i] == null ? RecordOutcome.RECORD_OUTCOME_UNSPECIFIED : outcomes[i];
        result.addOutcomes(outcome);
        if (outcome == RecordOutcome.RECORD_OUTCOME_FAILED) {
          result.addErrors(
              RecordError.newBuilder()
                  .setIndex(i)
                  .setKind(kinds[i])
                  .setStage(stages[i])
                  .setMessage(messages[i] == null ? "" : messages[i]));
        }
      }
      return result.build();
    }
  }
}

package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.metrics.StageMeters;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.RemoteTarget;
import io.conveyor.sidecar.routing.StageRoute;
import io.conveyor.sidecar.routing.TargetSelector;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.RecordBatchView;
import io.conveyor.sidecar.wire.v1.TransformResultView;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import io.grpc.Deadline;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Moves a batch through the rest of a pipeline, starting at a given stage, and answers with the
 * outcome of every record once the sink(s) confirmed — or the records failed.
 *
 * <p>A stage this pod runs is executed by calling the pod's service; its outputs go on to the next
 * stage in the same way. A stage this pod does not run is handed, with everything after it, to one
 * of the sidecars that do ({@code ForwardBatch}); that sidecar answers for the records.
 *
 * <p>Failure handling, per stage call:
 *
 * <ul>
 *   <li>records a service reports as failed-retryable, and all records of a call that failed as a
 *       whole, are retried — only those — up to the pipeline's {@code maxRetries}, with exponential
 *       backoff and jitter, never past the batch deadline;
 *   <li>a remote sidecar that fails a call is ejected for a while and the next attempt goes to
 *       another replica; an overloaded one (RESOURCE_EXHAUSTED) is avoided but not ejected;
 *   <li>records rejected by a stage go to the pipeline's dead-letter sink when it has one;
 *   <li>whatever is still failed is reported FAILED, with a kind that tells the source whether to
 *       re-send. Nothing is dropped silently.
 * </ul>
 *
 * Everything is asynchronous: no thread waits for a stage. Batches larger than a stage accepts are
 * split and their parts run in parallel.
 */
public final class PipelineExecutor {

  private static final Logger log = LoggerFactory.getLogger(PipelineExecutor.class);

  /** Dead-letter records carry these metadata keys, so the sink can tell why they are there. */
  public static final String ERROR_KEY = "conveyor.error";

  public static final String FAILED_STAGE_KEY = "conveyor.failed-stage";
  public static final String PIPELINE_KEY = "conveyor.pipeline";
  private static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(10);

  private final String selfId;
  private final StageClient client;
  private final TargetSelector targets;
  private final ScheduledExecutorService timer;
  private final SidecarMetrics metrics;
  private final int maxChunkBytes;
  private final AtomicInteger waitingRetries = new AtomicInteger();

  public PipelineExecutor(
      String selfId,
      StageClient client,
      TargetSelector targets,
      ScheduledExecutorService timer,
      SidecarMetrics metrics,
      int maxMessageBytes) {
    this.selfId = selfId;
    this.client = client;
    this.targets = targets;
    this.timer = timer;
    this.metrics = metrics;
    // Leave room for the envelope around the records.
    this.maxChunkBytes = Math.max(1024, maxMessageBytes - 64 * 1024);
  }

  /**
   * Delivers {@code records} (serialized {@code Record}s) into stage {@code index} of {@code
   * route}. The future never fails: every problem becomes a per-record outcome.
   */
  public CompletableFuture<BatchOutcome> deliver(
      PipelineRoute route, int index, List<ByteString> records, Deadline deadline) {
    if (records.isEmpty()) {
      return CompletableFuture.completedFuture(new BatchOutcome(0));
    }
    StageRoute stage = route.stage(index);
    List<List<ByteString>> chunks =
        chunks(records, stage.batchLimit(route.delivery().maxBatchSize()));
    if (chunks.size() == 1) {
      return deliverChunk(route, stage, records, deadline);
    }
    List<CompletableFuture<BatchOutcome>> parts = new ArrayList<>(chunks.size());
    for (List<ByteString> chunk : chunks) {
      parts.add(deliverChunk(route, stage, chunk, deadline));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(
            ignored -> {
              BatchOutcome whole = new BatchOutcome(records.size());
              int offset = 0;
              for (CompletableFuture<BatchOutcome> part : parts) {
                BatchOutcome outcome = part.join();
                whole.copyAll(offset, outcome);
                offset += outcome.size();
              }
              return whole;
            });
  }

  private CompletableFuture<BatchOutcome> deliverChunk(
      PipelineRoute route, StageRoute stage, List<ByteString> records, Deadline deadline) {
    StageMeters meters = metrics.stage(route.pipeline(), stage.name());
    meters.batchIn(records.size());
    long started = System.nanoTime();
    CompletableFuture<BatchOutcome> result;
    try {
      if (stage.isLocal()) {
        result =
            stage.role() == StageRole.STAGE_ROLE_TRANSFORM
                ? runTransform(route, stage, records, deadline, meters)
                : runSink(route, stage, records, deadline, meters);
      } else if (!stage.remotes().isEmpty()) {
        result = forward(route, stage, records, deadline, meters);
      } else {
        result =
            CompletableFuture.completedFuture(
                BatchOutcome.allFailed(
                    records.size(),
                    FailureKind.FAILURE_KIND_RETRYABLE,
                    stage.name(),
                    "no sidecar runs stage '"
                        + stage.name()
                        + "' of pipeline "
                        + route.pipeline()));
      }
    } catch (RuntimeException e) {
      // A bug must not lose records: fail them retryably so the source re-sends.
      log.error(
          "stage {} of {} threw; failing its {} records",
          stage.name(),
          route.pipeline(),
          records.size(),
          e);
      result =
          CompletableFuture.completedFuture(
              BatchOutcome.allFailed(
                  records.size(),
                  FailureKind.FAILURE_KIND_RETRYABLE,
                  stage.name(),
                  "internal error: " + e));
    }
    return result.handle(
        (outcome, error) -> {
          BatchOutcome finalOutcome =
              error == null
                  ? outcome
                  : BatchOutcome.allFailed(
                      records.size(),
                      FailureKind.FAILURE_KIND_RETRYABLE,
                      stage.name(),
                      "internal error: " + error);
          meters.latency(stage.isLocal(), System.nanoTime() - started);
          return finalOutcome;
        });
  }

  // ------------------------------------------------------------------ local stages

  /**
   * One call of a local service on some records of a batch, and how to read its answer. The retry
   * loop around it is the same for transforms and sinks.
   */
  private interface LocalCall<R> {
    CompletableFuture<R> call(int[] pending);

    int resultCount(R response);

    /**
     * Records the answer for {@code pending}: final outcomes into {@code outcome}, records to try
     * again into {@code retry}. Returns the last retryable error, for the give-up message.
     */
    String apply(R response, int[] pending, BatchOutcome outcome, List<Integer> retry);
  }

  /** Calls a local service for every record, retrying what failed retryably; never fails. */
  private <R> CompletableFuture<BatchOutcome> runLocal(
      PipelineRoute route,
      StageRoute stage,
      int size,
      Deadline deadline,
      StageMeters meters,
      LocalCall<R> call) {
    BatchOutcome outcome = new BatchOutcome(size);
    CompletableFuture<BatchOutcome> done = new CompletableFuture<>();
    attemptLocal(route, stage, allIndices(size), 0, outcome, deadline, meters, done, call);
    return done;
  }

  private <R> void attemptLocal(
      PipelineRoute route,
      StageRoute stage,
      int[] pending,
      int attempt,
      BatchOutcome outcome,
      Deadline deadline,
      StageMeters meters,
      CompletableFuture<BatchOutcome> done,
      LocalCall<R> call) {
    call.call(pending)
        .whenComplete(
            (response, error) -> {
              List<Integer> retry = new ArrayList<>();
              String lastError;
              if (error != null) {
                lastError = callFailed(stage, error, pending, outcome, retry, meters);
              } else if (call.resultCount(response) != pending.length) {
                lastError =
                    stage.name()
                        + " answered "
                        + call.resultCount(response)
                        + " results for "
                        + pending.length
                        + " records";
                for (int i : pending) {
                  retry.add(i);
                }
              } else {
                lastError = call.apply(response, pending, outcome, retry);
              }
              retryOrFinish(
                  route,
                  stage,
                  retry,
                  attempt,
                  lastError,
                  outcome,
                  deadline,
                  meters,
                  done,
                  next ->
                      attemptLocal(
                          route, stage, next, attempt + 1, outcome, deadline, meters, done, call));
            });
  }

  private CompletableFuture<BatchOutcome> runSink(
      PipelineRoute route,
      StageRoute stage,
      List<ByteString> records,
      Deadline deadline,
      StageMeters meters) {
    String endpoint = stage.local().orElseThrow().endpoint();
    LocalCall<WriteBatchResponse> write =
        new LocalCall<>() {
          @Override
          public CompletableFuture<WriteBatchResponse> call(int[] pending) {
            return client.write(
                endpoint,
                WriteBatchRequestView.newBuilder()
                    .setBatch(batchOf(records, pending))
                    .setPipeline(route.pipeline())
                    .setStage(stage.name())
                    .build(),
                deadline);
          }

          @Override
          public int resultCount(WriteBatchResponse response) {
            return response.getResultsCount();
          }

          @Override
          public String apply(
              WriteBatchResponse response,
              int[] pending,
              BatchOutcome outcome,
              List<Integer> retry) {
            String lastError = null;
            for (int j = 0; j < pending.length; j++) {
              SinkResult result = response.getResults(j);
              int i = pending[j];
              if (result.getStatus() == SinkResult.Status.STATUS_OK) {
                outcome.deliver(i);
              } else if (result.getRetryable()) {
                retry.add(i);
                lastError = result.getError();
              } else {
                outcome.fail(i, FailureKind.FAILURE_KIND_REJECTED, stage.name(), result.getError());
              }
            }
            return lastError;
          }
        };
    return runLocal(route, stage, records.size(), deadline, meters, write)
        .thenCompose(o -> countAndDeadLetter(route, stage, records, o, deadline, meters));
  }

  private CompletableFuture<BatchOutcome> runTransform(
      PipelineRoute route,
      StageRoute stage,
      List<ByteString> records,
      Deadline deadline,
      StageMeters meters) {
    String endpoint = stage.local().orElseThrow().endpoint();
    TransformResultView[] results = new TransformResultView[records.size()];
    LocalCall<ProcessBatchResponseView> process =
        new LocalCall<>() {
          @Override
          public CompletableFuture<ProcessBatchResponseView> call(int[] pending) {
            return client.process(
                endpoint,
                ProcessBatchRequestView.newBuilder()
                    .setBatch(batchOf(records, pending))
                    .setPipeline(route.pipeline())
                    .setStage(stage.name())
                    .build(),
                deadline);
          }

          @Override
          public int resultCount(ProcessBatchResponseView response) {
            return response.getResultsCount();
          }

          @Override
          public String apply(
              ProcessBatchResponseView response,
              int[] pending,
              BatchOutcome outcome,
              List<Integer> retry) {
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
                outcome.fail(i, FailureKind.FAILURE_KIND_REJECTED, stage.name(), result.getError());
              }
            }
            return lastError;
          }
        };
    return runLocal(route, stage, records.size(), deadline, meters, process)
        .thenCompose(
            o -> {
              TransformFanout fanout = TransformFanout.collect(results, o);
              OptionalInt next = route.next(stage.index());
              if (fanout.outputs().isEmpty()) {
                return countAndDeadLetter(route, stage, records, o, deadline, meters);
              }
              if (next.isEmpty()) {
                // Cannot happen with a well-formed route (a sink always follows); fail, do not
                // drop.
                for (int i = 0; i < o.size(); i++) {
                  if (!o.isFailed(i)) {
                    o.fail(
                        i,
                        FailureKind.FAILURE_KIND_REJECTED,
                        stage.name(),
                        "no stage after " + stage.name());
                  }
                }
                return countAndDeadLetter(route, stage, records, o, deadline, meters);
              }
              return deliver(route, next.getAsInt(), fanout.outputs(), deadline)
                  .thenCompose(
                      downstream -> {
                        fanout.resolve(o, downstream);
                        return countAndDeadLetter(route, stage, records, o, deadline, meters);
                      });
            });
  }

  // ------------------------------------------------------------------ shared stage-call logic

  /** Classifies a failed call to a local service; fills {@code retry} or fails the records. */
  private static String callFailed(
      StageRoute stage,
      Throwable error,
      int[] pending,
      BatchOutcome outcome,
      List<Integer> retry,
      StageMeters meters) {
    meters.callFailed();
    Status status = CallErrors.status(error);
    String message = stage.name() + ": " + CallErrors.describe(status);
    if (CallErrors.verdict(status) == CallErrors.Verdict.REJECT) {
      for (int i : pending) {
        outcome.fail(i, FailureKind.FAILURE_KIND_REJECTED, stage.name(), message);
      }
    } else {
      for (int i : pending) {
        retry.add(i);
      }
    }
    return message;
  }

  private interface Attempt {
    void run(int[] pending);
  }

  /**
   * Retries {@code retry} after a backoff when attempts and the deadline allow; otherwise fails
   * them as retryable (the source will re-send) and completes.
   */
  private void retryOrFinish(
      PipelineRoute route,
      StageRoute stage,
      List<Integer> retry,
      int attempt,
      String lastError,
      BatchOutcome outcome,
      Deadline deadline,
      StageMeters meters,
      CompletableFuture<BatchOutcome> done,
      Attempt nextAttempt) {
    if (retry.isEmpty()) {
      done.complete(outcome);
      return;
    }
    Duration delay = backoff(route).delay(attempt, ThreadLocalRandom.current());
    boolean timeLeft = deadline.timeRemaining(TimeUnit.NANOSECONDS) > delay.toNanos();
    if (attempt < route.delivery().maxRetries() && timeLeft) {
      meters.retried(retry.size());
      int[] next = retry.stream().mapToInt(Integer::intValue).toArray();
      later(() -> nextAttempt.run(next), delay);
      return;
    }
    String reason =
        (timeLeft ? "gave up after " + (attempt + 1) + " attempts" : "batch deadline reached")
            + (lastError == null ? "" : ": " + lastError);
    for (int i : retry) {
      outcome.fail(i, FailureKind.FAILURE_KIND_RETRYABLE, stage.name(), reason);
    }
    done.complete(outcome);
  }

  /** Doubling from the pipeline's retry backoff, capped at 64 times it or 10 s. */
  /** Runs a retry after its backoff; counted meanwhile as waiting (the queue depth reported). */
  private void later(Runnable retry, Duration delay) {
    waitingRetries.incrementAndGet();
    timer.schedule(
        () -> {
          waitingRetries.decrementAndGet();
          retry.run();
        },
        delay.toNanos(),
        TimeUnit.NANOSECONDS);
  }

  /** Stage calls waiting for their retry backoff to pass. */
  public int waitingRetries() {
    return waitingRetries.get();
  }

  private static Backoff backoff(PipelineRoute route) {
    Duration initial = route.delivery().retryBackoff();
    Duration cap = initial.multipliedBy(64);
    if (cap.compareTo(MAX_RETRY_DELAY) > 0) {
      cap = MAX_RETRY_DELAY.compareTo(initial) > 0 ? MAX_RETRY_DELAY : initial;
    }
    return new Backoff(initial, cap, 2.0, 0.5);
  }

  // ------------------------------------------------------------------ remote stages

  private CompletableFuture<BatchOutcome> forward(
      PipelineRoute route,
      StageRoute stage,
      List<ByteString> records,
      Deadline deadline,
      StageMeters meters) {
    ForwardBatchRequestView request =
        ForwardBatchRequestView.newBuilder()
            .setPipeline(route.pipeline())
            .setStageIndex(stage.index())
            .setStage(stage.name())
            .setBatch(RecordBatchView.newBuilder().addAllRecords(records))
            .setOriginSidecarId(selfId)
            .build();
    CompletableFuture<BatchOutcome> done = new CompletableFuture<>();
    attemptForward(
        route, stage, request, records.size(), 0, new HashSet<>(), null, deadline, meters, done);
    return done;
  }

  private void attemptForward(
      PipelineRoute route,
      StageRoute stage,
      ForwardBatchRequestView request,
      int size,
      int attempt,
      Set<String> tried,
      String lastError,
      Deadline deadline,
      StageMeters meters,
      CompletableFuture<BatchOutcome> done) {
    if (tried.size() >= stage.remotes().size()) {
      tried.clear(); // every replica had a go: start over, the ejection state still steers
    }
    RemoteTarget target = targets.pick(stage.remotes(), tried).orElse(null);
    if (target == null) {
      done.complete(
          BatchOutcome.allFailed(
              size,
              FailureKind.FAILURE_KIND_RETRYABLE,
              stage.name(),
              "no reachable sidecar runs "
                  + stage.name()
                  + (lastError == null ? "" : " (" + lastError + ")")));
      return;
    }
    String endpoint = target.endpoint();
    tried.add(endpoint);
    targets.health().started(endpoint);
    client
        .forward(endpoint, request, deadline)
        .whenComplete(
            (response, error) -> {
              if (error == null) {
                targets.health().succeeded(endpoint);
                done.complete(BatchOutcome.fromProto(response.getResult(), size, stage.name()));
                return;
              }
              meters.callFailed();
              Status status = CallErrors.status(error);
              CallErrors.Verdict verdict = CallErrors.verdict(status);
              String message =
                  "sidecar "
                      + target.podName()
                      + " ("
                      + endpoint
                      + "): "
                      + CallErrors.describe(status);
              if (verdict == CallErrors.Verdict.RETRY_EJECT) {
                Duration ejected = targets.health().failed(endpoint);
                logWithRoute(
                    route,
                    stage,
                    "ejected {} for {} ms: {}",
                    endpoint,
                    ejected.toMillis(),
                    message);
              } else {
                targets.health().finished(endpoint);
              }
              if (verdict == CallErrors.Verdict.REJECT) {
                done.complete(
                    BatchOutcome.allFailed(
                        size, FailureKind.FAILURE_KIND_REJECTED, stage.name(), message));
                return;
              }
              Duration delay = backoff(route).delay(attempt, ThreadLocalRandom.current());
              boolean timeLeft = deadline.timeRemaining(TimeUnit.NANOSECONDS) > delay.toNanos();
              if (attempt < route.delivery().maxRetries() && timeLeft) {
                meters.retried(size);
                // Another replica may answer at once; only wait when the same target is retried.
                boolean otherReplica = stage.remotes().size() > tried.size();
                Runnable again =
                    () ->
                        attemptForward(
                            route,
                            stage,
                            request,
                            size,
                            attempt + 1,
                            tried,
                            message,
                            deadline,
                            meters,
                            done);
                if (otherReplica && verdict == CallErrors.Verdict.RETRY_EJECT) {
                  again.run();
                } else {
                  later(again, delay);
                }
              } else {
                done.complete(
                    BatchOutcome.allFailed(
                        size,
                        FailureKind.FAILURE_KIND_RETRYABLE,
                        stage.name(),
                        (timeLeft
                                ? "gave up after " + (attempt + 1) + " attempts: "
                                : "batch deadline reached: ")
                            + message));
              }
            });
  }

  // ------------------------------------------------------------------ dead letters and accounting

  /**
   * Counts this stage's final outcomes and, when the pipeline has a dead-letter sink, sends the
   * records this stage rejected there. Records failed further down were dead-lettered (or not) by
   * the stage that failed them.
   */
  private CompletableFuture<BatchOutcome> countAndDeadLetter(
      PipelineRoute route,
      StageRoute stage,
      List<ByteString> records,
      BatchOutcome outcome,
      Deadline deadline,
      StageMeters meters) {
    OptionalInt dlq = route.deadLetterIndex();
    List<Integer> rejectedHere = new ArrayList<>();
    if (dlq.isPresent() && stage.index() != dlq.getAsInt()) {
      for (int i = 0; i < outcome.size(); i++) {
        RecordError error = outcome.error(i);
        if (outcome.isFailed(i)
            && error.getKind() == FailureKind.FAILURE_KIND_REJECTED
            && error.getStage().equals(stage.name())) {
          rejectedHere.add(i);
        }
      }
    }
    if (rejectedHere.isEmpty()) {
      count(outcome, meters);
      return CompletableFuture.completedFuture(outcome);
    }
    List<ByteString> letters = new ArrayList<>(rejectedHere.size());
    for (int i : rejectedHere) {
      letters.add(deadLetterRecord(route, records.get(i), outcome.error(i)));
    }
    return deliver(route, dlq.getAsInt(), letters, deadline)
        .thenApply(
            dlqOutcome -> {
              for (int j = 0; j < rejectedHere.size(); j++) {
                if (dlqOutcome.outcome(j) == RecordOutcome.RECORD_OUTCOME_DELIVERED) {
                  outcome.deadLetter(rejectedHere.get(j));
                }
              }
              count(outcome, meters);
              return outcome;
            });
  }

  private static void count(BatchOutcome outcome, StageMeters meters) {
    meters.outcome(
        RecordOutcome.RECORD_OUTCOME_DELIVERED,
        outcome.count(RecordOutcome.RECORD_OUTCOME_DELIVERED));
    meters.outcome(
        RecordOutcome.RECORD_OUTCOME_FILTERED,
        outcome.count(RecordOutcome.RECORD_OUTCOME_FILTERED));
    meters.outcome(
        RecordOutcome.RECORD_OUTCOME_FAILED, outcome.count(RecordOutcome.RECORD_OUTCOME_FAILED));
    meters.outcome(
        RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED,
        outcome.count(RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED));
  }

  /** The record with the reason it failed in its metadata (the rare path that decodes a record). */
  private static ByteString deadLetterRecord(
      PipelineRoute route, ByteString record, RecordError error) {
    try {
      return Record.parseFrom(record).toBuilder()
          .putMetadata(ERROR_KEY, error.getMessage())
          .putMetadata(FAILED_STAGE_KEY, error.getStage())
          .putMetadata(PIPELINE_KEY, route.pipeline())
          .build()
          .toByteString();
    } catch (InvalidProtocolBufferException e) {
      return record; // undecodable: dead-letter it as it came
    }
  }

  // ------------------------------------------------------------------ helpers

  /** Splits records into chunks of at most {@code maxRecords} and about {@code maxChunkBytes}. */
  List<List<ByteString>> chunks(List<ByteString> records, int maxRecords) {
    List<List<ByteString>> chunks = new ArrayList<>();
    int start = 0;
    long bytes = 0;
    for (int i = 0; i < records.size(); i++) {
      long size = records.get(i).size() + 8L;
      if (i > start && (i - start >= maxRecords || bytes + size > maxChunkBytes)) {
        chunks.add(records.subList(start, i));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    chunks.add(records.subList(start, records.size()));
    return chunks;
  }

  private static RecordBatchView batchOf(List<ByteString> records, int[] indices) {
    RecordBatchView.Builder batch = RecordBatchView.newBuilder();
    if (indices.length == records.size()) {
      return batch.addAllRecords(records).build();
    }
    for (int i : indices) {
      batch.addRecords(records.get(i));
    }
    return batch.build();
  }

  private static int[] allIndices(int n) {
    int[] indices = new int[n];
    for (int i = 0; i < n; i++) {
      indices[i] = i;
    }
    return indices;
  }

  private static void logWithRoute(
      PipelineRoute route, StageRoute stage, String format, Object... args) {
    try (MDC.MDCCloseable p = MDC.putCloseable("pipeline", route.pipeline());
        MDC.MDCCloseable s = MDC.putCloseable("stage", stage.name())) {
      log.warn(format, args);
    }
  }
}

package io.conveyor.sidecar.dataplane;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.metrics.StageMeters;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.Routes;
import io.conveyor.sidecar.routing.StageRoute;
import io.conveyor.sidecar.routing.TargetSelector;
import io.grpc.Deadline;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a batch through the rest of a pipeline, starting at a given stage, and answers with the
 * outcome of every record once the sink(s) confirmed — or the records failed.
 *
 * <p>The batch is cut into chunks a stage accepts ({@link ChunkDelivery}), which run in parallel. A
 * stage this pod runs is a call of the pod's service ({@link TransformCall}, {@link SinkCall}, run
 * with retries by {@link LocalAttempts}); a transform's outputs go on to the next stage in the same
 * way. A stage this pod does not run is handed, with everything after it, to one of the sidecars
 * that do ({@link ForwardCall}); that sidecar answers for the records. A stage that no sidecar runs
 * yet is waited for, until the batch deadline at the latest ({@link StageWaits}).
 *
 * <p>Failure handling, per stage call:
 *
 * <ul>
 *   <li>records a service reports as failed-retryable, and all records of a call that failed as a
 *       whole, are retried — only those — as the {@link RetryPolicy} allows: up to the pipeline's
 *       {@code maxRetries}, with exponential backoff and jitter, never past the batch deadline;
 *   <li>a remote sidecar that fails a call is ejected for a while and the next attempt goes to
 *       another replica; an overloaded one (RESOURCE_EXHAUSTED) is avoided but not ejected;
 *   <li>records rejected by a stage go to the pipeline's dead-letter sink when it has one ({@link
 *       DeadLetters});
 *   <li>whatever is still failed is reported FAILED, with a kind that tells the source whether to
 *       re-send. Nothing is dropped silently.
 * </ul>
 *
 * Everything is asynchronous: no thread waits for a stage. A pipeline's batches can be failed at
 * once ({@link #abort}, for a revoke without drain); the first answer of a batch is its only one.
 */
public final class PipelineExecutor {

  private static final Logger log = LoggerFactory.getLogger(PipelineExecutor.class);

  /** Dead-letter records carry these metadata keys, so the sink can tell why they are there. */
  public static final String ERROR_KEY = "conveyor.error";

  public static final String FAILED_STAGE_KEY = "conveyor.failed-stage";
  public static final String PIPELINE_KEY = "conveyor.pipeline";

  private final String selfId;
  private final StageClient client;
  private final TargetSelector targets;
  private final RetryTimer retries;
  private final StageWaits waits;
  private final SidecarMetrics metrics;
  private final int maxChunkBytes;
  private final LongSupplier nanoTime = System::nanoTime;
  private final DeadLetters deadLetters = new DeadLetters(this::deliverInto);
  private final OpenBatches open = new OpenBatches();

  /**
   * @param routes the sidecar's routes: a batch bound for a stage with no instance waits for them
   *     to list one
   * @param timer runs retries after their backoff and the deadlines of waits
   */
  public PipelineExecutor(
      String selfId,
      StageClient client,
      TargetSelector targets,
      Routes routes,
      ScheduledExecutorService timer,
      SidecarMetrics metrics,
      int maxMessageBytes) {
    this.selfId = selfId;
    this.client = client;
    this.targets = targets;
    this.retries = new RetryTimer(timer);
    this.waits = new StageWaits(routes::table, timer, nanoTime);
    routes.onChange(waits::tableChanged);
    this.metrics = metrics;
    // Room for the envelope around the records (pipeline, stage and sidecar names): 64 KiB, or an
    // eighth of a small limit — a fixed 64 KiB left 1 KiB chunks, one record each, at 64 KiB.
    this.maxChunkBytes = Math.max(1024, maxMessageBytes - Math.min(64 * 1024, maxMessageBytes / 8));
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
    String entryStage = route.stage(index).name();
    BatchRun batch = new BatchRun(route.pipeline(), records.size(), deadline, nanoTime);
    open.add(batch);
    deliverInto(batch, route, index, records)
        .whenComplete(
            (outcome, error) -> {
              open.remove(batch);
              batch.finish(
                  error == null
                      ? outcome
                      : BatchOutcome.allFailed(
                          records.size(),
                          FailureKind.FAILURE_KIND_RETRYABLE,
                          entryStage,
                          "internal error: " + error));
            });
    return batch.answer();
  }

  /**
   * Answers every batch of {@code pipeline} under way at once, each record failed retryably for
   * {@code reason}, and stops their calls and retries: a later answer of a stopped call is not
   * given to anyone. Returns how many batches were answered so.
   */
  public int abort(String pipeline, String reason) {
    int aborted = 0;
    for (BatchRun batch : open.of(pipeline)) {
      if (batch.abort(reason)) {
        aborted++;
      }
      open.remove(batch);
    }
    return aborted;
  }

  /** Batches of {@code pipeline} under way. */
  public int batchesInFlight(String pipeline) {
    return open.of(pipeline).size();
  }

  /** Stage calls waiting for their retry backoff to pass. */
  public int waitingRetries() {
    return retries.waiting();
  }

  /** Chunks of batches waiting for a sidecar to run their next stage. */
  public int waitingForStage() {
    return waits.waiting();
  }

  /**
   * Fails every chunk waiting for a stage to get an instance, and from now on every chunk that
   * would wait, retryably for {@code reason}: the sidecar drains, and such a batch would only hold
   * up its stop. Returns how many waits were ended.
   */
  public int stopWaiting(String reason) {
    return waits.stop(reason);
  }

  /** Delivers records of {@code batch} into stage {@code index}, in chunks the stage accepts. */
  private CompletableFuture<BatchOutcome> deliverInto(
      BatchRun batch, PipelineRoute route, int index, List<ByteString> records) {
    if (records.isEmpty()) {
      return CompletableFuture.completedFuture(new BatchOutcome(0));
    }
    StageRoute stage = route.stage(index);
    if (batch.isAborted()) {
      return CompletableFuture.completedFuture(
          BatchOutcome.allFailed(
              records.size(),
              FailureKind.FAILURE_KIND_RETRYABLE,
              stage.name(),
              batch.abortReason()));
    }
    StageMeters meters = metrics.stage(route.pipeline(), stage.name());
    List<List<ByteString>> chunks =
        chunks(records, stage.batchLimit(route.delivery().maxBatchSize()));
    if (chunks.size() == 1) {
      return deliverChunk(new ChunkDelivery(batch, route, stage, records, meters));
    }
    List<CompletableFuture<BatchOutcome>> parts = new ArrayList<>(chunks.size());
    for (List<ByteString> chunk : chunks) {
      parts.add(deliverChunk(new ChunkDelivery(batch, route, stage, chunk, meters)));
    }
    return joined(parts, records.size());
  }

  /**
   * Runs a chunk that waited for its stage to get an instance. It was cut for the stage as it was
   * then; the instance it found may take fewer records per call (a pod's own service with a smaller
   * batch size than the pipeline's), so it is cut again: sent whole, the service would refuse it
   * for its size and its records would be rejected. Its records were counted in when it arrived.
   */
  private CompletableFuture<BatchOutcome> resumeAfterWait(ChunkDelivery chunk) {
    List<List<ByteString>> cut =
        chunks(chunk.records(), chunk.stage().batchLimit(chunk.route().delivery().maxBatchSize()));
    if (cut.size() == 1) {
      return runStage(chunk);
    }
    List<CompletableFuture<BatchOutcome>> parts = new ArrayList<>(cut.size());
    for (List<ByteString> part : cut) {
      parts.add(
          runStage(
              new ChunkDelivery(
                  chunk.batch(), chunk.route(), chunk.stage(), part, chunk.meters())));
    }
    return joined(parts, chunk.size());
  }

  /** The outcomes of consecutive parts of {@code size} records, as one outcome in their order. */
  private static CompletableFuture<BatchOutcome> joined(
      List<CompletableFuture<BatchOutcome>> parts, int size) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(
            ignored -> {
              BatchOutcome whole = new BatchOutcome(size);
              int offset = 0;
              for (CompletableFuture<BatchOutcome> part : parts) {
                BatchOutcome outcome = part.join();
                whole.copyAll(offset, outcome);
                offset += outcome.size();
              }
              return whole;
            });
  }

  private CompletableFuture<BatchOutcome> deliverChunk(ChunkDelivery chunk) {
    StageRoute stage = chunk.stage();
    chunk.meters().batchIn(chunk.size());
    long started = nanoTime.getAsLong();
    CompletableFuture<BatchOutcome> result;
    try {
      result = runStage(chunk);
    } catch (RuntimeException e) {
      // A bug must not lose records: fail them retryably so the source re-sends.
      log.error(
          "stage {} of {} threw; failing its {} records",
          stage.name(),
          chunk.route().pipeline(),
          chunk.size(),
          e);
      result = CompletableFuture.completedFuture(internalError(chunk, e));
    }
    return result.handle(
        (outcome, error) -> {
          BatchOutcome finalOutcome = error == null ? outcome : internalError(chunk, error);
          chunk.meters().latency(stage.isLocal(), nanoTime.getAsLong() - started);
          return finalOutcome;
        });
  }

  private CompletableFuture<BatchOutcome> runStage(ChunkDelivery chunk) {
    StageRoute stage = chunk.stage();
    if (stage.isLocal()) {
      return stage.role() == StageRole.STAGE_ROLE_TRANSFORM ? runTransform(chunk) : runSink(chunk);
    }
    if (!stage.remotes().isEmpty()) {
      // The remote sidecar answers for this stage and everything after it: its answer is this
      // stage's outcome here (records dead-lettered there were dead-lettered by it).
      return new ForwardCall(chunk, client, targets, policy(chunk), retries, selfId)
          .run()
          .thenApply(
              outcome -> {
                count(outcome, chunk.meters());
                return outcome;
              });
    }
    // No sidecar runs the stage yet (its pod not registered yet, or restarting): failed now, the
    // source would re-send at once, again and again. The batch waits for one, bounded.
    return waits.await(chunk, this::resumeAfterWait);
  }

  private CompletableFuture<BatchOutcome> runSink(ChunkDelivery chunk) {
    return new LocalAttempts<>(chunk, new SinkCall(client, chunk), policy(chunk), retries)
        .run()
        .thenCompose(written -> finishStage(chunk));
  }

  /** Calls the transform, then sends its outputs on and settles each input by its outputs' fate. */
  private CompletableFuture<BatchOutcome> runTransform(ChunkDelivery chunk) {
    TransformCall call = new TransformCall(client, chunk);
    return new LocalAttempts<>(chunk, call, policy(chunk), retries)
        .run()
        .thenCompose(
            outcome -> {
              TransformFanout fanout = TransformFanout.collect(call.results(), outcome);
              if (fanout.outputs().isEmpty()) {
                return finishStage(chunk);
              }
              OptionalInt next = chunk.route().next(chunk.stage().index());
              if (next.isEmpty()) {
                // Cannot happen with a well-formed route (a sink always follows); fail, do not
                // drop.
                for (int i = 0; i < outcome.size(); i++) {
                  if (!outcome.isFailed(i)) {
                    chunk.fail(
                        i,
                        FailureKind.FAILURE_KIND_REJECTED,
                        "no stage after " + chunk.stage().name());
                  }
                }
                return finishStage(chunk);
              }
              return deliverInto(chunk.batch(), chunk.route(), next.getAsInt(), fanout.outputs())
                  .thenCompose(
                      downstream -> {
                        fanout.resolve(outcome, downstream);
                        return finishStage(chunk);
                      });
            });
  }

  /** Dead-letters what this stage rejected, then counts the stage's final outcomes. */
  private CompletableFuture<BatchOutcome> finishStage(ChunkDelivery chunk) {
    return deadLetters
        .send(chunk)
        .thenApply(
            outcome -> {
              count(outcome, chunk.meters());
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

  private RetryPolicy policy(ChunkDelivery chunk) {
    return new RetryPolicy(chunk.route().delivery(), nanoTime, ThreadLocalRandom::current);
  }

  private static BatchOutcome internalError(ChunkDelivery chunk, Throwable error) {
    return BatchOutcome.allFailed(
        chunk.size(),
        FailureKind.FAILURE_KIND_RETRYABLE,
        chunk.stage().name(),
        "internal error: " + error);
  }

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
}

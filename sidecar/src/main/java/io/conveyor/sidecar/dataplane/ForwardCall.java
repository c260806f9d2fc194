package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.ForwardBatchResponse;
import io.conveyor.sidecar.routing.EndpointHealth;
import io.conveyor.sidecar.routing.RemoteTarget;
import io.conveyor.sidecar.routing.TargetSelector;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.RecordBatchView;
import io.grpc.Status;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Hands a chunk, for a stage this pod does not run and everything after it, to one of the sidecars
 * that do ({@code ForwardBatch}); that sidecar answers for every record. A replica that fails the
 * call is ejected for a while and the next attempt goes to another one at once; an overloaded one
 * (RESOURCE_EXHAUSTED) is avoided but not ejected; attempts are bounded by the {@link RetryPolicy}.
 * The future never fails.
 */
final class ForwardCall {

  private static final Logger log = LoggerFactory.getLogger(ForwardCall.class);

  private final ChunkDelivery chunk;
  private final StageClient client;
  private final TargetSelector targets;
  private final RetryPolicy policy;
  private final RetryTimer retries;
  private final ForwardBatchRequestView request;
  private final List<RemoteTarget> replicas;

  /** Replicas tried since every one last had a go; attempts are sequential, never concurrent. */
  private final Set<String> tried = new HashSet<>();

  private final CompletableFuture<BatchOutcome> done = new CompletableFuture<>();

  ForwardCall(
      ChunkDelivery chunk,
      StageClient client,
      TargetSelector targets,
      RetryPolicy policy,
      RetryTimer retries,
      String selfId) {
    this.chunk = chunk;
    this.client = client;
    this.targets = targets;
    this.policy = policy;
    this.retries = retries;
    this.replicas = chunk.stage().remotes();
    this.request =
        ForwardBatchRequestView.newBuilder()
            .setPipeline(chunk.route().pipeline())
            .setStageIndex(chunk.stage().index())
            .setStage(chunk.stage().name())
            .setBatch(RecordBatchView.newBuilder().addAllRecords(chunk.records()))
            .setOriginSidecarId(selfId)
            .build();
  }

  /** Starts the first attempt; completes with the chunk's outcome as the remote sidecar gave it. */
  CompletableFuture<BatchOutcome> run() {
    attempt(0, null);
    return done;
  }

  private void attempt(int attempt, String lastError) {
    BatchRun batch = chunk.batch();
    if (batch.isAborted()) {
      chunk.abandonAll();
      done.complete(chunk.outcome());
      return;
    }
    if (tried.size() >= replicas.size()) {
      tried.clear(); // every replica had a go: start over, the ejection state still steers
    }
    RemoteTarget target = targets.pick(replicas, tried).orElse(null);
    if (target == null) {
      finish(
          FailureKind.FAILURE_KIND_RETRYABLE,
          "no reachable sidecar runs "
              + chunk.stage().name()
              + (lastError == null ? "" : " (" + lastError + ")"));
      return;
    }
    String endpoint = target.endpoint();
    tried.add(endpoint);
    targets.health().started(endpoint);
    CompletableFuture<ForwardBatchResponse> call =
        client.forward(endpoint, target.identity(), request, chunk.deadline());
    Runnable cancel = () -> call.cancel(true);
    batch.track(cancel);
    call.whenComplete(
        (response, error) -> {
          batch.untrack(cancel);
          if (error == null) {
            targets
                .health()
                .succeeded(endpoint)
                .ifPresent(
                    recovery ->
                        withRoute(
                            () ->
                                log.info(
                                    "sidecar {} ({}) answers again after {} failed calls in {} ms",
                                    target.podName(),
                                    endpoint,
                                    recovery.failedCalls(),
                                    recovery.lasted().toMillis())));
            chunk
                .outcome()
                .copyAll(
                    0,
                    BatchOutcome.fromProto(
                        response.getResult(), chunk.size(), chunk.stage().name()));
            done.complete(chunk.outcome());
          } else if (batch.isAborted()) {
            // Cancelled by the abort: says nothing about the replica's health.
            targets.health().finished(endpoint);
            chunk.abandonAll();
            done.complete(chunk.outcome());
          } else {
            failed(target, error, attempt);
          }
        });
  }

  private void failed(RemoteTarget target, Throwable error, int attempt) {
    String endpoint = target.endpoint();
    chunk.meters().callFailed();
    Status status = CallErrors.status(error);
    CallErrors.Verdict verdict = CallErrors.verdict(status);
    String message =
        "sidecar " + target.podName() + " (" + endpoint + "): " + CallErrors.describe(status);
    if (verdict == CallErrors.Verdict.RETRY_EJECT) {
      // One line per episode: a dead replica fails every batch sent its way until it is back.
      EndpointHealth.Ejection ejection = targets.health().failed(endpoint);
      if (ejection.episodeStarted()) {
        withRoute(
            () ->
                log.warn(
                    "ejected {} for {} ms: {}; its further failures are counted until it answers"
                        + " again",
                    endpoint,
                    ejection.duration().toMillis(),
                    message));
      } else if (log.isDebugEnabled()) {
        withRoute(
            () ->
                log.debug(
                    "{} failed again ({} failed calls since it was first ejected): {}",
                    endpoint,
                    ejection.failedCalls(),
                    message));
      }
    } else {
      targets.health().finished(endpoint);
    }
    if (verdict == CallErrors.Verdict.REJECT) {
      finish(FailureKind.FAILURE_KIND_REJECTED, message);
      return;
    }
    RetryPolicy.Decision decision =
        policy.afterFailedAttempt(attempt, chunk.batch().deadlineNanos());
    if (decision instanceof RetryPolicy.RetryAfter after) {
      chunk.meters().retried(chunk.size());
      // Another replica may answer at once; only wait when the same target is tried again.
      boolean otherReplica = replicas.size() > tried.size();
      if (otherReplica && verdict == CallErrors.Verdict.RETRY_EJECT) {
        attempt(attempt + 1, message);
      } else {
        retries.schedule(chunk.batch(), after.delay(), () -> attempt(attempt + 1, message));
      }
      return;
    }
    finish(FailureKind.FAILURE_KIND_RETRYABLE, ((RetryPolicy.GiveUp) decision).because(message));
  }

  /** Every record of the chunk failed for the same reason. */
  private void finish(FailureKind kind, String message) {
    chunk.failAll(kind, message);
    done.complete(chunk.outcome());
  }

  /** Logs with the chunk's pipeline and stage in the MDC. */
  private void withRoute(Runnable logging) {
    try (MDC.MDCCloseable p = MDC.putCloseable("pipeline", chunk.route().pipeline());
        MDC.MDCCloseable s = MDC.putCloseable("stage", chunk.stage().name())) {
      logging.run();
    }
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Calls a service of this pod for a chunk until every record has an outcome at this stage: the
 * records the service failed retryably, and all records of a call that failed as a whole, are
 * called again — only those — as the {@link RetryPolicy} allows, and fail retryably when it gives
 * up. The future never fails.
 *
 * <p>When the batch is aborted, the call under way is cancelled and the records without an outcome
 * fail for the abort's reason instead of being retried.
 */
final class LocalAttempts<R> {

  private final ChunkDelivery chunk;
  private final LocalCall<R> call;
  private final RetryPolicy policy;
  private final RetryTimer retries;
  private final CompletableFuture<BatchOutcome> done = new CompletableFuture<>();

  LocalAttempts(ChunkDelivery chunk, LocalCall<R> call, RetryPolicy policy, RetryTimer retries) {
    this.chunk = chunk;
    this.call = call;
    this.policy = policy;
    this.retries = retries;
  }

  /** Starts the first attempt; completes with the chunk's outcome. */
  CompletableFuture<BatchOutcome> run() {
    attempt(chunk.allIndices(), 0);
    return done;
  }

  private void attempt(int[] pending, int attempt) {
    BatchRun batch = chunk.batch();
    if (batch.isAborted()) {
      chunk.abandon(toList(pending));
      done.complete(chunk.outcome());
      return;
    }
    CompletableFuture<R> response = call.call(pending);
    Runnable cancel = () -> response.cancel(true);
    batch.track(cancel);
    response.whenComplete(
        (answer, error) -> {
          batch.untrack(cancel);
          List<Integer> retry = new ArrayList<>();
          String lastError;
          if (error != null && batch.isAborted()) {
            // Cancelled by the abort: not the service's failure; retryOrFinish abandons them.
            retry.addAll(toList(pending));
            lastError = null;
          } else if (error != null) {
            lastError = callFailed(error, pending, retry);
          } else if (call.resultCount(answer) != pending.length) {
            lastError =
                chunk.stage().name()
                    + " answered "
                    + call.resultCount(answer)
                    + " results for "
                    + pending.length
                    + " records";
            for (int i : pending) {
              retry.add(i);
            }
          } else {
            lastError = call.apply(answer, pending, retry);
          }
          retryOrFinish(retry, attempt, lastError);
        });
  }

  /** Classifies a call that failed as a whole: its records are rejected or to be retried. */
  private String callFailed(Throwable error, int[] pending, List<Integer> retry) {
    chunk.meters().callFailed();
    Status status = CallErrors.status(error);
    String message = chunk.stage().name() + ": " + CallErrors.describe(status);
    if (CallErrors.verdict(status) == CallErrors.Verdict.REJECT) {
      for (int i : pending) {
        chunk.fail(i, FailureKind.FAILURE_KIND_REJECTED, message);
      }
    } else {
      retry.addAll(toList(pending));
    }
    return message;
  }

  private void retryOrFinish(List<Integer> retry, int attempt, String lastError) {
    if (retry.isEmpty()) {
      done.complete(chunk.outcome());
      return;
    }
    if (chunk.batch().isAborted()) {
      chunk.abandon(retry);
      done.complete(chunk.outcome());
      return;
    }
    RetryPolicy.Decision decision =
        policy.afterFailedAttempt(attempt, chunk.batch().deadlineNanos());
    if (decision instanceof RetryPolicy.RetryAfter after) {
      chunk.meters().retried(retry.size());
      int[] next = retry.stream().mapToInt(Integer::intValue).toArray();
      retries.schedule(chunk.batch(), after.delay(), () -> attempt(next, attempt + 1));
      return;
    }
    String reason = ((RetryPolicy.GiveUp) decision).because(lastError);
    for (int i : retry) {
      chunk.fail(i, FailureKind.FAILURE_KIND_RETRYABLE, reason);
    }
    done.complete(chunk.outcome());
  }

  private static List<Integer> toList(int[] indices) {
    List<Integer> list = new ArrayList<>(indices.length);
    for (int i : indices) {
      list.add(i);
    }
    return list;
  }
}

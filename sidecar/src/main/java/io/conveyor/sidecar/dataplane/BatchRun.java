package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.FailureKind;
import io.grpc.Deadline;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * One batch handed to the executor — a source's or one forwarded by another sidecar — from its
 * arrival to its answer: what every chunk of it, at every stage, shares.
 *
 * <p>The answer is given once, by whichever comes first: the delivery's outcome ({@link #finish})
 * or an abort ({@link #abort}, a revoke without drain), which fails every record retryably at once
 * and stops the batch's calls under way and retries waiting. After an abort no new call starts;
 * each part of the batch still completes, with its records failed for the abort's reason.
 */
final class BatchRun {

  /** Records failed by an abort are failed by the sidecar, not by a stage. */
  static final String ABORT_STAGE = "sidecar";

  private final String pipeline;
  private final int size;
  private final Deadline deadline;
  private final long deadlineNanos;
  private final CompletableFuture<BatchOutcome> answer = new CompletableFuture<>();
  private final AtomicReference<String> abortReason = new AtomicReference<>();

  /** How to stop what is under way for the batch: one entry per call or waiting retry. */
  private final Set<Runnable> cancellations = ConcurrentHashMap.newKeySet();

  /**
   * @param size the number of records the answer accounts for
   * @param deadline the batch's deadline, passed on to every call made for it
   * @param nanoTime the executor's clock; retries read the deadline on it
   */
  BatchRun(String pipeline, int size, Deadline deadline, LongSupplier nanoTime) {
    this.pipeline = pipeline;
    this.size = size;
    this.deadline = deadline;
    this.deadlineNanos = nanoTime.getAsLong() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
  }

  String pipeline() {
    return pipeline;
  }

  Deadline deadline() {
    return deadline;
  }

  /** The deadline as a reading of the executor's clock. */
  long deadlineNanos() {
    return deadlineNanos;
  }

  /** The batch's answer: the delivery's outcome or, when aborted first, the abort's. */
  CompletableFuture<BatchOutcome> answer() {
    return answer;
  }

  /** Answers with the delivery's outcome, unless an abort answered already. */
  void finish(BatchOutcome outcome) {
    answer.complete(outcome);
  }

  boolean isAborted() {
    return abortReason.get() != null;
  }

  /** Why the batch was aborted; null when it was not. */
  String abortReason() {
    return abortReason.get();
  }

  /**
   * Answers at once with every record failed retryably for {@code reason}, and stops every call
   * under way and retry waiting. Returns true when this answered the batch (false when it was
   * answered or aborted already).
   */
  boolean abort(String reason) {
    if (!abortReason.compareAndSet(null, reason)) {
      return false;
    }
    boolean answered =
        answer.complete(
            BatchOutcome.allFailed(size, FailureKind.FAILURE_KIND_RETRYABLE, ABORT_STAGE, reason));
    for (Runnable cancel : cancellations) {
      // Whoever removes an entry runs it: this loop, or track() when it lost the race.
      if (cancellations.remove(cancel)) {
        cancel.run();
      }
    }
    return answered;
  }

  /**
   * Registers how to stop a call or waiting retry of this batch; runs {@code cancel} at once when
   * the batch is aborted already. Every tracked entry is {@link #untrack}ed when it completes.
   */
  void track(Runnable cancel) {
    cancellations.add(cancel);
    if (isAborted() && cancellations.remove(cancel)) {
      cancel.run();
    }
  }

  void untrack(Runnable cancel) {
    cancellations.remove(cancel);
  }
}

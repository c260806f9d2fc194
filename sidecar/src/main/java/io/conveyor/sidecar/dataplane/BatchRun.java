package io.conveyor.sidecar.dataplane;

import io.grpc.Deadline;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One batch handed to the executor — a source's or one forwarded by another sidecar — from its
 * arrival to its answer: what every chunk of it, at every stage, shares.
 */
final class BatchRun {

  private final String pipeline;
  private final Deadline deadline;
  private final long deadlineNanos;

  /**
   * @param deadline the batch's deadline, passed on to every call made for it
   * @param nanoTime the executor's clock; retries read the deadline on it
   */
  BatchRun(String pipeline, Deadline deadline, LongSupplier nanoTime) {
    this.pipeline = pipeline;
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
}

package io.conveyor.examples.direct;

import io.conveyor.examples.support.WorkloadSettings;
import java.time.Duration;

/**
 * How the direct baseline drives the pipeline.
 *
 * @param workload the same records and retry policy as the pusher's
 * @param window batches in flight at most (transform call start to sink answer); set it to the
 *     sidecar's credits for a fair comparison ({@code WINDOW})
 * @param pipeline sent in the requests' {@code pipeline} field ({@code PIPELINE})
 * @param transformStage sent as the transform request's {@code stage} ({@code TRANSFORM_STAGE})
 * @param sinkStage sent as the sink request's {@code stage} ({@code SINK_STAGE})
 * @param callTimeout deadline of each transform and sink call ({@code CALL_TIMEOUT_MS})
 */
public record DirectSettings(
    WorkloadSettings workload,
    int window,
    String pipeline,
    String transformStage,
    String sinkStage,
    Duration callTimeout) {

  public DirectSettings {
    if (window < 1) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    if (callTimeout.isNegative() || callTimeout.isZero()) {
      throw new IllegalArgumentException("callTimeout must be positive");
    }
  }

  /** The demo pipeline's names, a window of 16 batches, 30 s per call. */
  public static DirectSettings defaults(WorkloadSettings workload) {
    return new DirectSettings(
        workload, 16, "demo", "demo-transform", "demo-sink", Duration.ofSeconds(30));
  }

  public DirectSettings withWindow(int value) {
    return new DirectSettings(workload, value, pipeline, transformStage, sinkStage, callTimeout);
  }

  public DirectSettings withCallTimeout(Duration value) {
    return new DirectSettings(workload, window, pipeline, transformStage, sinkStage, value);
  }

  public DirectSettings withWorkload(WorkloadSettings value) {
    return new DirectSettings(value, window, pipeline, transformStage, sinkStage, callTimeout);
  }
}

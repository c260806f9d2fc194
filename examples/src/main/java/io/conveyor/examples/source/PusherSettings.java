package io.conveyor.examples.source;

import io.conveyor.common.retry.Backoff;
import io.conveyor.examples.support.WorkloadSettings;
import java.time.Duration;

/**
 * How a {@link RecordPusher} talks to its sidecar.
 *
 * @param workload the records and the retry policy
 * @param pipeline pipeline to push into ({@code PIPELINE}); empty lets the sidecar pick the one
 *     pipeline whose source is {@code sourceName}
 * @param sourceName the source's logical (Describe) name, sent in PushInit
 * @param sourceInstance identifies this process in the sidecar's logs and metrics
 * @param maxInFlightBatches own cap on unacknowledged batches, on top of the sidecar's credits
 *     ({@code MAX_IN_FLIGHT})
 * @param initTimeout time for the sidecar to answer PushInit ({@code INIT_TIMEOUT_MS})
 * @param ackTimeout time for a batch to be acknowledged, and the longest the pusher waits for
 *     credits with nothing in flight, before it drops the stream and reconnects ({@code
 *     ACK_TIMEOUT_MS})
 * @param reconnectBackoff delay before reconnecting after the stream ended ({@code
 *     RECONNECT_BACKOFF_MS} first, doubling up to {@code MAX_RECONNECT_BACKOFF_MS}, 50% jitter)
 */
public record PusherSettings(
    WorkloadSettings workload,
    String pipeline,
    String sourceName,
    String sourceInstance,
    int maxInFlightBatches,
    Duration initTimeout,
    Duration ackTimeout,
    Backoff reconnectBackoff) {

  public static final Backoff DEFAULT_RECONNECT_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), 2.0, 0.5);

  public PusherSettings {
    if (maxInFlightBatches < 1) {
      throw new IllegalArgumentException("maxInFlightBatches must be positive");
    }
    if (initTimeout.isNegative()
        || initTimeout.isZero()
        || ackTimeout.isNegative()
        || ackTimeout.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
  }

  /** Defaults: any pipeline, 256 batches at most in flight, 10 s to open, 45 s per ack. */
  public static PusherSettings defaults(String sourceName, WorkloadSettings workload) {
    return new PusherSettings(
        workload,
        "",
        sourceName,
        defaultInstance(),
        256,
        Duration.ofSeconds(10),
        Duration.ofSeconds(45),
        DEFAULT_RECONNECT_BACKOFF);
  }

  /** {@code <host>/<pid>}, the host from HOSTNAME (the pod name in Kubernetes). */
  public static String defaultInstance() {
    String host = System.getenv().getOrDefault("HOSTNAME", "localhost");
    return host + "/" + ProcessHandle.current().pid();
  }

  public PusherSettings withPipeline(String value) {
    return new PusherSettings(
        workload,
        value,
        sourceName,
        sourceInstance,
        maxInFlightBatches,
        initTimeout,
        ackTimeout,
        reconnectBackoff);
  }

  public PusherSettings withTimeouts(Duration init, Duration ack) {
    return new PusherSettings(
        workload,
        pipeline,
        sourceName,
        sourceInstance,
        maxInFlightBatches,
        init,
        ack,
        reconnectBackoff);
  }

  public PusherSettings withReconnectBackoff(Backoff value) {
    return new PusherSettings(
        workload,
        pipeline,
        sourceName,
        sourceInstance,
        maxInFlightBatches,
        initTimeout,
        ackTimeout,
        value);
  }

  public PusherSettings withMaxInFlightBatches(int value) {
    return new PusherSettings(
        workload,
        pipeline,
        sourceName,
        sourceInstance,
        value,
        initTimeout,
        ackTimeout,
        reconnectBackoff);
  }

  public PusherSettings withWorkload(WorkloadSettings value) {
    return new PusherSettings(
        value,
        pipeline,
        sourceName,
        sourceInstance,
        maxInFlightBatches,
        initTimeout,
        ackTimeout,
        reconnectBackoff);
  }
}

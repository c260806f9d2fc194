package io.conveyor.router.core;

import io.conveyor.common.contract.RendezvousSubset;
import java.time.Duration;

/**
 * Limits of the router core.
 *
 * @param maxSidecars registrations beyond this are refused (RESOURCE_EXHAUSTED)
 * @param missedHeartbeats a sidecar silent for this many of its heartbeat periods is expired
 * @param minHeartbeatInterval shortest heartbeat period a sidecar may ask for
 * @param maxHeartbeatInterval longest heartbeat period a sidecar may ask for
 * @param defaultHeartbeatInterval period assumed when a sidecar does not say
 * @param maxPipelines pipelines beyond this are refused
 * @param warmUp after the router starts serving, how long it holds back an assignment set in which
 *     a pipeline of the sidecar has a stage no sidecar serves yet (sidecars come back one by one
 *     after a restart; see {@link RouterCore#servingStarted()}); zero hands out every set at once
 * @param subsetSize most targets of one stage a sidecar is told about (deterministic subsetting,
 *     see {@link RendezvousSubset}); a stage with no more replicas than this is told whole
 */
public record RouterSettings(
    int maxSidecars,
    int missedHeartbeats,
    Duration minHeartbeatInterval,
    Duration maxHeartbeatInterval,
    Duration defaultHeartbeatInterval,
    int maxPipelines,
    Duration warmUp,
    int subsetSize) {

  public RouterSettings {
    if (warmUp.isNegative()) {
      throw new IllegalArgumentException("warmUp must not be negative: " + warmUp);
    }
    RendezvousSubset.requireSize(subsetSize);
  }

  /** As the canonical constructor, with the default subset size. */
  public RouterSettings(
      int maxSidecars,
      int missedHeartbeats,
      Duration minHeartbeatInterval,
      Duration maxHeartbeatInterval,
      Duration defaultHeartbeatInterval,
      int maxPipelines,
      Duration warmUp) {
    this(
        maxSidecars,
        missedHeartbeats,
        minHeartbeatInterval,
        maxHeartbeatInterval,
        defaultHeartbeatInterval,
        maxPipelines,
        warmUp,
        RendezvousSubset.DEFAULT_SIZE);
  }

  /**
   * The core's own limits, without a warm-up: embedders that restart routers (the standalone main,
   * the operator) set theirs with {@link #withWarmUp(Duration)}.
   */
  public static RouterSettings defaults() {
    return new RouterSettings(
        10_000,
        3,
        Duration.ofSeconds(1),
        Duration.ofMinutes(5),
        Duration.ofSeconds(5),
        10_000,
        Duration.ZERO,
        RendezvousSubset.DEFAULT_SIZE);
  }

  /** These settings with another warm-up window. */
  public RouterSettings withWarmUp(Duration length) {
    return new RouterSettings(
        maxSidecars,
        missedHeartbeats,
        minHeartbeatInterval,
        maxHeartbeatInterval,
        defaultHeartbeatInterval,
        maxPipelines,
        length,
        subsetSize);
  }

  /**
   * These settings with another subset size.
   *
   * @throws IllegalArgumentException when {@code size} is below 1
   */
  public RouterSettings withSubsetSize(int size) {
    return new RouterSettings(
        maxSidecars,
        missedHeartbeats,
        minHeartbeatInterval,
        maxHeartbeatInterval,
        defaultHeartbeatInterval,
        maxPipelines,
        warmUp,
        size);
  }

  /** The period a sidecar asking for {@code requestedSeconds} is held to. */
  public Duration heartbeatInterval(int requestedSeconds) {
    if (requestedSeconds <= 0) {
      return defaultHeartbeatInterval;
    }
    Duration requested = Duration.ofSeconds(requestedSeconds);
    if (requested.compareTo(minHeartbeatInterval) < 0) {
      return minHeartbeatInterval;
    }
    return requested.compareTo(maxHeartbeatInterval) > 0 ? maxHeartbeatInterval : requested;
  }
}

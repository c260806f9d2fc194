package io.conveyor.router.core;

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
 */
public record RouterSettings(
    int maxSidecars,
    int missedHeartbeats,
    Duration minHeartbeatInterval,
    Duration maxHeartbeatInterval,
    Duration defaultHeartbeatInterval,
    int maxPipelines) {

  public static RouterSettings defaults() {
    return new RouterSettings(
        10_000, 3, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(5), 10_000);
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

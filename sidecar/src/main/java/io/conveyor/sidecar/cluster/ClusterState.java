package io.conveyor.sidecar.cluster;

/**
 * Where the sidecar stands with the router. Every change of state happens on the cluster client's
 * synchronization context, so a transition and the parts it starts or stops are never interleaved
 * with a callback.
 *
 * <pre>
 * STARTING ──start──▶ REGISTERING ──answered──▶ REGISTERED ◀──answered── RE_REGISTERING
 *                                                    └──router forgot us──────▲
 * any state ──close──▶ CLOSED
 * </pre>
 */
public enum ClusterState {
  /** Built, not started: nothing sent yet. */
  STARTING,
  /** Registering for the first time, retrying with backoff while the router is unreachable. */
  REGISTERING,
  /** Registered: heartbeats run and the watch stream is open. */
  REGISTERED,
  /**
   * The router no longer knows this sidecar (it restarted, failed over or expired us): registering
   * again, routing meanwhile with the assignments held.
   */
  RE_REGISTERING,
  /** Stopped for good: no call is sent and no answer acted on. */
  CLOSED;

  /** Whether the client may go from this state to {@code next}. */
  public boolean canMoveTo(ClusterState next) {
    return switch (this) {
      case STARTING -> next == REGISTERING || next == CLOSED;
      case REGISTERING, RE_REGISTERING -> next == REGISTERED || next == CLOSED;
      case REGISTERED -> next == RE_REGISTERING || next == CLOSED;
      case CLOSED -> false;
    };
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.SidecarState;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether the sidecar takes new batches. Set by the cluster client (serving, once registered) and
 * the shutdown sequence (draining, for good): a registration answered while the sidecar already
 * drains must not make it serve again, so serving is a compare-and-set from starting.
 */
public final class Lifecycle {

  private final AtomicReference<SidecarState> state =
      new AtomicReference<>(SidecarState.SIDECAR_STATE_STARTING);

  public SidecarState state() {
    return state.get();
  }

  /**
   * Starting → serving; returns false when the sidecar was not starting (e.g. already draining).
   */
  public boolean serving() {
    return state.compareAndSet(
        SidecarState.SIDECAR_STATE_STARTING, SidecarState.SIDECAR_STATE_SERVING);
  }

  public void draining() {
    state.set(SidecarState.SIDECAR_STATE_DRAINING);
  }

  public boolean isStarting() {
    return state.get() == SidecarState.SIDECAR_STATE_STARTING;
  }

  public boolean isDraining() {
    return state.get() == SidecarState.SIDECAR_STATE_DRAINING;
  }
}

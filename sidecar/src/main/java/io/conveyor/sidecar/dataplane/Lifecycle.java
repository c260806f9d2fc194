package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.SidecarState;

/** Whether the sidecar takes new batches. Set by the cluster client and the shutdown sequence. */
public final class Lifecycle {

  private volatile SidecarState state = SidecarState.SIDECAR_STATE_STARTING;

  public SidecarState state() {
    return state;
  }

  public void serving() {
    if (state == SidecarState.SIDECAR_STATE_STARTING) {
      state = SidecarState.SIDECAR_STATE_SERVING;
    }
  }

  public void draining() {
    state = SidecarState.SIDECAR_STATE_DRAINING;
  }

  public boolean isStarting() {
    return state == SidecarState.SIDECAR_STATE_STARTING;
  }

  public boolean isDraining() {
    return state == SidecarState.SIDECAR_STATE_DRAINING;
  }
}

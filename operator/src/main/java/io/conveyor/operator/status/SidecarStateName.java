package io.conveyor.operator.status;

import io.conveyor.etl.v1.SidecarState;

/**
 * How {@code status.sidecarState} spells the lifecycle state a sidecar reports. Decisions are made
 * on {@link SidecarState}; this is where it turns into the API's string and, for a status carried
 * over from the object, back.
 */
enum SidecarStateName {
  STARTING(SidecarState.SIDECAR_STATE_STARTING, "Starting"),
  SERVING(SidecarState.SIDECAR_STATE_SERVING, "Serving"),
  DRAINING(SidecarState.SIDECAR_STATE_DRAINING, "Draining");

  /** Written for a state this operator does not know (a newer sidecar's). */
  static final String UNKNOWN = "Unknown";

  private final SidecarState state;
  private final String name;

  SidecarStateName(SidecarState state, String name) {
    this.state = state;
    this.name = name;
  }

  static String of(SidecarState state) {
    for (SidecarStateName n : values()) {
      if (n.state == state) {
        return n.name;
      }
    }
    return UNKNOWN;
  }

  /** The state a status field says; unspecified when it is absent or not one of ours. */
  static SidecarState parse(String name) {
    for (SidecarStateName n : values()) {
      if (n.name.equals(name)) {
        return n.state;
      }
    }
    return SidecarState.SIDECAR_STATE_UNSPECIFIED;
  }
}

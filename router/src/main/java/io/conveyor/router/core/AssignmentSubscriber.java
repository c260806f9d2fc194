package io.conveyor.router.core;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import java.util.List;

/** The receiving end of one sidecar's WatchAssignments stream. */
public interface AssignmentSubscriber {

  /** Delivers commands; must not block. Called outside the core's lock. */
  void send(List<Command> commands);

  /**
   * The sidecar opened this subscription holding {@code set}, the current one (its known version is
   * the set's): what later changes may be sent as deltas from. Called under the core's lock before
   * any {@link #send}; must not block. Only a subscription's first message tells it so.
   */
  default void holds(AssignmentSet set) {}

  /**
   * True when this stream delivers every new set to the sidecar itself (it takes deltas, so a set
   * costs what changed): heartbeat replies then leave sets to it instead of repeating them whole.
   */
  default boolean carriesSets() {
    return false;
  }

  /** Ends the stream: the sidecar is gone or a newer watch replaced this one. */
  void close(String reason);
}

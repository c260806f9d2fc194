package io.conveyor.router.core;

import io.conveyor.etl.v1.Command;
import java.util.List;

/** The receiving end of one sidecar's WatchAssignments stream. */
public interface AssignmentSubscriber {

  /** Delivers commands; must not block. Called outside the core's lock. */
  void send(List<Command> commands);

  /** Ends the stream: the sidecar is gone or a newer watch replaced this one. */
  void close(String reason);
}

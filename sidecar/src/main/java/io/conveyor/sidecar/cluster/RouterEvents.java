package io.conveyor.sidecar.cluster;

import io.conveyor.etl.v1.Command;
import java.util.List;

/** What the heartbeats and the watch stream of a registration hear from the router. */
interface RouterEvents {

  /** Commands, in the order the router sent them. */
  void commands(List<Command> commands);

  /** The router no longer knows this sidecar: the registration is over. */
  void unknownSidecar(String why);
}

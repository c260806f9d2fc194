package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.AssignmentSet;
import java.util.Collection;
import java.util.List;

/**
 * The sidecar's current routing table, rebuilt whenever the router's assignments or the pod's
 * services change. Readers take the table once per batch and keep it for the batch's life.
 */
public final class Routes {

  private final String selfId;
  private AssignmentSet assignments = AssignmentSet.getDefaultInstance();
  private List<LocalService> services = List.of();
  private volatile RoutingTable table = RoutingTable.EMPTY;

  public Routes(String selfId) {
    this.selfId = selfId;
  }

  public RoutingTable table() {
    return table;
  }

  /** The assignment set the table was last built from. */
  public synchronized AssignmentSet assignments() {
    return assignments;
  }

  /** The pod's services the table was last built from. */
  public synchronized List<LocalService> services() {
    return services;
  }

  public synchronized void assign(AssignmentSet newAssignments) {
    this.assignments = newAssignments;
    table = RoutingTable.build(selfId, assignments, services);
  }

  public synchronized void services(Collection<LocalService> newServices) {
    this.services = List.copyOf(newServices);
    table = RoutingTable.build(selfId, assignments, services);
  }
}

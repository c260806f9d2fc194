package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.AssignmentSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sidecar's current routing table, rebuilt whenever the router's assignments or the pod's
 * services change. Readers take the table once per batch and keep it for the batch's life.
 *
 * <p>A pipeline the router revoked is left out of the table until the router's next assignment set,
 * which is authoritative again (the router follows a revoke with a set that no longer lists the
 * pipeline, or lists it again when it comes back).
 */
public final class Routes {

  private final String selfId;
  private AssignmentSet assignments = AssignmentSet.getDefaultInstance();
  private List<LocalService> services = List.of();

  /** Pipelines of the current assignment set that were revoked; never more than the set lists. */
  private final Set<String> revoked = new HashSet<>();

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
    revoked.clear();
    table = RoutingTable.build(selfId, assignments, services);
  }

  public synchronized void services(Collection<LocalService> newServices) {
    this.services = List.copyOf(newServices);
    table = RoutingTable.build(selfId, assignments, services).without(revoked);
  }

  /**
   * Stops routing {@code pipeline} until the next {@link #assign}. A pipeline that is not in the
   * table is not routed anyway and is not remembered.
   */
  public synchronized void revoke(String pipeline) {
    if (table.pipeline(pipeline).isPresent()) {
      revoked.add(pipeline);
      table = table.without(revoked);
    }
  }
}

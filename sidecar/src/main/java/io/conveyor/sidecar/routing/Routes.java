package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.AssignmentSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The sidecar's current routing table, rebuilt whenever the router's assignments or the pod's
 * services change. Readers take the table once per batch and keep it for the batch's life.
 *
 * <p>A pipeline the router revoked is left out of the table until the router's next assignment set,
 * which is authoritative again (the router follows a revoke with a set that no longer lists the
 * pipeline, or lists it again when it comes back).
 *
 * <p>Whoever needs to act on a new table (batches waiting for a stage to get an instance) is told
 * after each change, outside this object's lock, and reads the table then: a listener may be told
 * more than once about the same table, never left with an old one.
 */
public final class Routes {

  private final String selfId;
  private AssignmentSet assignments = AssignmentSet.getDefaultInstance();
  private List<LocalService> services = List.of();

  /** Pipelines of the current assignment set that were revoked; never more than the set lists. */
  private final Set<String> revoked = new HashSet<>();

  private volatile RoutingTable table = RoutingTable.EMPTY;

  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

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

  /** Runs {@code listener} after every change of the table, on the thread that changed it. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  public void assign(AssignmentSet newAssignments) {
    synchronized (this) {
      this.assignments = newAssignments;
      revoked.clear();
      table = RoutingTable.build(selfId, assignments, services);
    }
    changed();
  }

  public void services(Collection<LocalService> newServices) {
    synchronized (this) {
      this.services = List.copyOf(newServices);
      table = RoutingTable.build(selfId, assignments, services).without(revoked);
    }
    changed();
  }

  /**
   * Stops routing {@code pipeline} until the next {@link #assign}. A pipeline that is not in the
   * table is not routed anyway and is not remembered.
   */
  public void revoke(String pipeline) {
    synchronized (this) {
      if (table.pipeline(pipeline).isEmpty()) {
        return;
      }
      revoked.add(pipeline);
      table = table.without(revoked);
    }
    changed();
  }

  private void changed() {
    for (Runnable listener : listeners) {
      listener.run();
    }
  }
}

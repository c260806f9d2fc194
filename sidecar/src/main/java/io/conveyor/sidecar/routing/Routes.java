package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.AssignmentSet;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The sidecar's current routing table, rebuilt whenever the router's assignments or the pod's
 * services change. Readers take the table once per batch and keep it for the batch's life.
 */
public final class Routes {

  private final String selfId;
  private volatile AssignmentSet assignments = AssignmentSet.getDefaultInstance();
  private volatile List<LocalService> services = List.of();
  private volatile RoutingTable table = RoutingTable.EMPTY;
  private final List<Consumer<RoutingTable>> listeners = new CopyOnWriteArrayList<>();

  public Routes(String selfId) {
    this.selfId = selfId;
  }

  public RoutingTable table() {
    return table;
  }

  public AssignmentSet assignments() {
    return assignments;
  }

  public List<LocalService> services() {
    return services;
  }

  public void onChange(Consumer<RoutingTable> listener) {
    listeners.add(listener);
  }

  public synchronized void assign(AssignmentSet newAssignments) {
    this.assignments = newAssignments;
    rebuild();
  }

  public synchronized void services(Collection<LocalService> newServices) {
    this.services = List.copyOf(newServices);
    rebuild();
  }

  private void rebuild() {
    RoutingTable next = RoutingTable.build(selfId, assignments, services);
    table = next;
    listeners.forEach(listener -> listener.accept(next));
  }
}

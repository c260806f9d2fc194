package io.conveyor.router.testing;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.router.core.AssignmentSubscriber;
import java.util.ArrayList;
import java.util.List;

/** A watch subscriber that remembers every batch of commands and whether it was closed. */
public final class RecordingSubscriber implements AssignmentSubscriber {

  private final List<List<Command>> batches = new ArrayList<>();
  private final boolean carriesSets;
  private String closedReason;

  /** A subscriber for a sidecar that does not take deltas: its heartbeats still carry sets. */
  public RecordingSubscriber() {
    this(false);
  }

  /**
   * @param carriesSets whether it stands for a stream that takes deltas and so delivers every set
   */
  public RecordingSubscriber(boolean carriesSets) {
    this.carriesSets = carriesSets;
  }

  @Override
  public boolean carriesSets() {
    return carriesSets;
  }

  @Override
  public synchronized void send(List<Command> commands) {
    batches.add(List.copyOf(commands));
  }

  @Override
  public synchronized void close(String reason) {
    closedReason = reason;
  }

  public synchronized List<List<Command>> batches() {
    return List.copyOf(batches);
  }

  public synchronized List<Command> commands() {
    return batches.stream().flatMap(List::stream).toList();
  }

  public synchronized List<AssignmentSet> assigns() {
    return Fixtures.assigns(commands());
  }

  public synchronized AssignmentSet lastAssign() {
    List<AssignmentSet> all = assigns();
    if (all.isEmpty()) {
      throw new AssertionError("no assignment set was pushed; got " + batches);
    }
    return all.get(all.size() - 1);
  }

  public synchronized String closedReason() {
    return closedReason;
  }

  public synchronized void clear() {
    batches.clear();
  }
}

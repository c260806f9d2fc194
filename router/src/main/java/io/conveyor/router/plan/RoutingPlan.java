package io.conveyor.router.plan;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.etl.v1.PipelineAssignment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The router's answer to "which sidecar runs what": a plan per pipeline, and the assignment each
 * sidecar receives. Immutable, computed by {@link AssignmentPlanner}.
 */
public final class RoutingPlan {

  public static final RoutingPlan EMPTY =
      new RoutingPlan(
          Map.of(), Map.of(), ShardedMap.empty(), RendezvousSubset.DEFAULT_SIZE, Set.of());

  private final Map<String, PipelinePlan> pipelines;
  private final Map<String, PipelineMessages> messages;

  /**
   * Per sidecar: the pipelines it takes part in (by key, in name order) and its local stages.
   * Shared with the plan it was derived from where unchanged (see {@link ShardedMap}).
   */
  private final ShardedMap<Map<String, BitSet>> participation;

  /** Keys of the pipelines with a stage no sidecar can take traffic for. */
  private final Set<String> incomplete;

  private final int subsetSize;

  /**
   * The sidecars whose assignments may differ from those of the plan this one was derived from;
   * null when any may (planned from nothing, or the pipelines changed).
   */
  private final Set<String> changedSidecars;

  RoutingPlan(
      Map<String, PipelinePlan> pipelines,
      Map<String, PipelineMessages> messages,
      ShardedMap<Map<String, BitSet>> participation,
      int subsetSize,
      Set<String> changedSidecars) {
    this.pipelines = Map.copyOf(pipelines);
    this.messages = Map.copyOf(messages);
    this.participation = participation;
    this.subsetSize = subsetSize;
    this.changedSidecars = changedSidecars == null ? null : Set.copyOf(changedSidecars);
    Set<String> unserved = new HashSet<>();
    pipelines.forEach(
        (key, plan) -> {
          if (!plan.complete()) {
            unserved.add(key);
          }
        });
    this.incomplete = Set.copyOf(unserved);
  }

  /** The plan of every pipeline, by {@code namespace/name}. */
  public Map<String, PipelinePlan> pipelines() {
    return pipelines;
  }

  public Optional<PipelinePlan> pipeline(String key) {
    return Optional.ofNullable(pipelines.get(key));
  }

  /** The pipelines a sidecar takes part in, as it receives them, ordered by pipeline name. */
  public List<PipelineAssignment> assignmentsFor(String sidecarId) {
    Map<String, BitSet> taking = participation.get(sidecarId);
    if (taking == null) {
      return List.of();
    }
    List<PipelineAssignment> assignments = new ArrayList<>(taking.size());
    taking.forEach((key, local) -> assignments.add(messages.get(key).forSidecar(sidecarId)));
    return assignments;
  }

  /**
   * The sidecars whose {@link #assignmentsFor} may differ from the plan this one was derived from
   * (sidecars no longer in any pipeline included), so that the router compares only theirs; empty
   * when none may. Absent when any may: the plan was made from nothing or the pipelines changed.
   */
  public Optional<Set<String>> changedSidecars() {
    return Optional.ofNullable(changedSidecars);
  }

  /**
   * The pipelines the sidecar takes part in that have a stage no sidecar can take traffic for, by
   * key; empty when it takes part in none.
   */
  public List<String> incompletePipelinesOf(String sidecarId) {
    Map<String, BitSet> taking = participation.get(sidecarId);
    if (taking == null || incomplete.isEmpty()) {
      return List.of();
    }
    List<String> keys = new ArrayList<>();
    for (String key : taking.keySet()) {
      if (incomplete.contains(key)) {
        keys.add(key);
      }
    }
    return keys;
  }

  /** The messages of each pipeline, for the next plan to carry over what did not change. */
  PipelineMessages messages(String pipelineKey) {
    return messages.get(pipelineKey);
  }

  ShardedMap<Map<String, BitSet>> participation() {
    return participation;
  }

  int subsetSize() {
    return subsetSize;
  }
}

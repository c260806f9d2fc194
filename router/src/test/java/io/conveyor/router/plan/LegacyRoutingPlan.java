package io.conveyor.router.plan;

import io.conveyor.etl.v1.PipelineAssignment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Part of the planner as it was (commit d6a8fc8), the oracle of {@link
 * IncrementalPlanningPropertyTest}; see {@link LegacyAssignmentPlanner}.
 *
 * <p>The router's answer to "which sidecar runs what": a plan per pipeline, and the assignment each
 * sidecar receives. Immutable, computed by {@link LegacyAssignmentPlanner}.
 */
public final class LegacyRoutingPlan {

  public static final LegacyRoutingPlan EMPTY = new LegacyRoutingPlan(Map.of(), Map.of(), Map.of());

  private final Map<String, PipelinePlan> pipelines;
  private final Map<String, LegacyPipelineMessages> messages;

  /** Per sidecar: the pipelines it takes part in (by key, in name order) and its local stages. */
  private final Map<String, Map<String, BitSet>> participation;

  /** Keys of the pipelines with a stage no sidecar can take traffic for. */
  private final Set<String> incomplete;

  LegacyRoutingPlan(
      Map<String, PipelinePlan> pipelines,
      Map<String, LegacyPipelineMessages> messages,
      Map<String, Map<String, BitSet>> participation) {
    this.pipelines = Map.copyOf(pipelines);
    this.messages = Map.copyOf(messages);
    // Not copied: the planner hands over maps nobody else holds, and a copy of one entry per
    // sidecar on every re-plan is a cost a registration storm pays per registration.
    this.participation = Collections.unmodifiableMap(participation);
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
  LegacyPipelineMessages messages(String pipelineKey) {
    return messages.get(pipelineKey);
  }

  /** Records that {@code sidecarId} hosts the stages {@code local} of pipeline {@code key}. */
  static void participate(
      Map<String, Map<String, BitSet>> participation, String sidecarId, String key, BitSet local) {
    participation.computeIfAbsent(sidecarId, id -> new LinkedHashMap<>()).put(key, local);
  }
}

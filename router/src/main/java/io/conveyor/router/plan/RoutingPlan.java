package io.conveyor.router.plan;

import io.conveyor.etl.v1.PipelineAssignment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The router's answer to "which sidecar runs what": a plan per pipeline, and the assignment each
 * sidecar receives. Immutable, computed by {@link AssignmentPlanner}.
 */
public record RoutingPlan(Map<String, PipelinePlan> pipelines) {

  public static final RoutingPlan EMPTY = new RoutingPlan(Map.of());

  public RoutingPlan {
    pipelines = Map.copyOf(pipelines);
  }

  public Optional<PipelinePlan> pipeline(String key) {
    return Optional.ofNullable(pipelines.get(key));
  }

  /** The pipelines a sidecar takes part in, as it receives them, ordered by pipeline name. */
  public List<PipelineAssignment> assignmentsFor(String sidecarId) {
    List<PipelineAssignment> assignments = new ArrayList<>();
    pipelines.values().stream()
        .filter(plan -> plan.involves(sidecarId))
        .sorted(java.util.Comparator.comparing(plan -> plan.pipeline().name()))
        .forEach(plan -> assignments.add(AssignmentMessages.assignment(plan, sidecarId)));
    return assignments;
  }
}

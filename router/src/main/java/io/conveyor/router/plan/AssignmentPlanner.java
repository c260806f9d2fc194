package io.conveyor.router.plan;

import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes the routing plan from the pipelines and the registered sidecars. A pure function: the
 * same inputs give the same plan, with replicas in a stable order (by sidecar id), so that an
 * unchanged world produces unchanged assignments and no pushes.
 *
 * <p>A sidecar hosts a stage when its pod runs a healthy service whose Describe name and type match
 * the stage, and the sidecar is in the pipeline's namespace. Every host of a stage is a target for
 * it unless it is draining.
 */
public final class AssignmentPlanner {

  private AssignmentPlanner() {}

  public static RoutingPlan plan(
      Collection<PipelineDefinition> pipelines, Collection<SidecarRecord> sidecars) {
    List<SidecarRecord> ordered = new ArrayList<>(sidecars);
    ordered.sort(Comparator.comparing(SidecarRecord::sidecarId));
    Map<String, PipelinePlan> plans = new HashMap<>();
    for (PipelineDefinition pipeline : pipelines) {
      List<StagePlan> stages = new ArrayList<>();
      for (Stage stage : pipeline.stages()) {
        List<SidecarRecord> hosts = new ArrayList<>();
        List<SidecarRecord> targets = new ArrayList<>();
        for (SidecarRecord sidecar : ordered) {
          if (sidecar.namespace().equals(pipeline.namespace())
              && sidecar.hosts(stage.name(), stage.role().serviceType())) {
            hosts.add(sidecar);
            if (sidecar.acceptsTraffic()) {
              targets.add(sidecar);
            }
          }
        }
        stages.add(new StagePlan(stage, hosts, targets));
      }
      plans.put(pipeline.key(), new PipelinePlan(pipeline, stages));
    }
    return new RoutingPlan(plans);
  }
}

package io.conveyor.router.plan;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The planner as it was before it was told which sidecars changed (commit d6a8fc8), kept unchanged
 * but for its name as the oracle of {@link IncrementalPlanningPropertyTest}.
 *
 * <p>Computes the routing plan from the pipelines and the registered sidecars. A pure function: the
 * same inputs give the same plan, with replicas in a stable order (by sidecar id), so that an
 * unchanged world produces unchanged assignments and no pushes.
 *
 * <p>A sidecar hosts a stage when its pod runs a healthy service whose Describe name and type match
 * the stage, and the sidecar is in the pipeline's namespace. Every host of a stage is a target for
 * it unless it is draining. A sidecar is told at most a subset of a stage's targets.
 *
 * <p>Cost: one pass over the sidecars' services to index them, then one lookup per stage; the
 * assignment messages are built once per pipeline and shared (see {@link LegacyPipelineMessages}).
 */
public final class LegacyAssignmentPlanner {

  private LegacyAssignmentPlanner() {}

  public static LegacyRoutingPlan plan(
      Collection<PipelineDefinition> pipelines, Collection<SidecarRecord> sidecars) {
    return plan(pipelines, sidecars, LegacyRoutingPlan.EMPTY);
  }

  /**
   * As {@link #plan(Collection, Collection, LegacyRoutingPlan, int)} with the default subset size.
   */
  public static LegacyRoutingPlan plan(
      Collection<PipelineDefinition> pipelines,
      Collection<SidecarRecord> sidecars,
      LegacyRoutingPlan previous) {
    return plan(pipelines, sidecars, previous, RendezvousSubset.DEFAULT_SIZE);
  }

  /**
   * The plan, with each sidecar told at most {@code subsetSize} targets per stage (see {@link
   * RendezvousSubset}). Messages that equal those of {@code previous} are carried over as the same
   * instances, which makes comparing assignments cheap, and the subsets are derived from its
   * subsets; the result is the same as planning from nothing.
   *
   * @throws IllegalArgumentException when {@code subsetSize} is below 1
   */
  public static LegacyRoutingPlan plan(
      Collection<PipelineDefinition> pipelines,
      Collection<SidecarRecord> sidecars,
      LegacyRoutingPlan previous,
      int subsetSize) {
    RendezvousSubset.requireSize(subsetSize);
    Map<ServiceKey, List<SidecarRecord>> hostsByService = indexByService(sidecars);
    List<PipelineDefinition> byName = new ArrayList<>(pipelines);
    Comparator<PipelineDefinition> name = Comparator.comparing(PipelineDefinition::name);
    byName.sort(name.thenComparing(PipelineDefinition::key, Comparator.naturalOrder()));
    Map<String, PipelinePlan> plans = new HashMap<>();
    Map<String, LegacyPipelineMessages> messages = new HashMap<>();
    Map<String, Map<String, BitSet>> participation = new HashMap<>();
    for (PipelineDefinition pipeline : byName) {
      List<StagePlan> stages = new ArrayList<>();
      Map<String, BitSet> local = new HashMap<>();
      for (Stage stage : pipeline.stages()) {
        List<SidecarRecord> hosts =
            hostsByService.getOrDefault(
                serviceKey(pipeline.namespace(), stage.role().serviceType(), stage.name()),
                List.of());
        List<SidecarRecord> targets = new ArrayList<>(hosts.size());
        for (SidecarRecord host : hosts) {
          if (host.acceptsTraffic()) {
            targets.add(host);
          }
          BitSet runs = local.get(host.sidecarId());
          if (runs == null) {
            runs = new BitSet();
            local.put(host.sidecarId(), runs);
            LegacyRoutingPlan.participate(participation, host.sidecarId(), pipeline.key(), runs);
          }
          runs.set(stage.index());
        }
        stages.add(new StagePlan(stage, hosts, targets));
      }
      PipelinePlan plan = new PipelinePlan(pipeline, stages);
      plans.put(pipeline.key(), plan);
      messages.put(
          pipeline.key(),
          LegacyPipelineMessages.of(plan, previous.messages(pipeline.key()), local, subsetSize));
    }
    return new LegacyRoutingPlan(plans, messages, participation);
  }

  /** Sidecars by the healthy services their pods run, each list in sidecar id order. */
  private static Map<ServiceKey, List<SidecarRecord>> indexByService(
      Collection<SidecarRecord> sidecars) {
    List<SidecarRecord> ordered = new ArrayList<>(sidecars);
    ordered.sort(Comparator.comparing(SidecarRecord::sidecarId));
    Map<ServiceKey, List<SidecarRecord>> index = new HashMap<>();
    for (SidecarRecord sidecar : ordered) {
      for (DiscoveredService service : sidecar.services()) {
        if (service.getHealth() == ServiceHealth.SERVICE_HEALTH_NOT_SERVING) {
          continue;
        }
        List<SidecarRecord> hosts =
            index.computeIfAbsent(
                serviceKey(
                    sidecar.namespace(),
                    service.getDescription().getType(),
                    service.getDescription().getName()),
                k -> new ArrayList<>());
        if (hosts.isEmpty() || hosts.get(hosts.size() - 1) != sidecar) {
          hosts.add(sidecar); // a pod may expose the same service on two ports
        }
      }
    }
    return index;
  }

  /** A key of cached string hashes: no string is built per sidecar and re-plan. */
  private record ServiceKey(String namespace, ServiceType type, String name) {}

  private static ServiceKey serviceKey(String namespace, ServiceType type, String name) {
    return new ServiceKey(namespace, type, name);
  }
}

package io.conveyor.router.plan;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes the routing plan from the pipelines and the registered sidecars. A pure function: the
 * same inputs give the same plan, with replicas in a stable order (by sidecar id), so that an
 * unchanged world produces unchanged assignments and no pushes.
 *
 * <p>A sidecar hosts a stage when its pod runs a healthy service whose Describe name and type match
 * the stage, and the sidecar is in the pipeline's namespace. Every host of a stage is a target for
 * it unless it is draining. A sidecar is told at most a subset of a stage's targets.
 *
 * <p>Cost. Planned from nothing, one pass over the sidecars per stage. Derived from the previous
 * plan with the ids of the sidecars that changed since (what the router does on every
 * registration), the cost follows those sidecars, not the fleet: their places in the stages' host
 * lists are patched, only the subsets and messages they touch are redone (see {@link StageSubsets},
 * {@link PipelineMessages}), everything else is shared with the previous plan, and the plan names
 * the sidecars whose assignments may have changed ({@link RoutingPlan#changedSidecars()}). The one
 * pass over a stage's callers left is for targets that arrived or left: each caller weighs them
 * against its subset, a few arithmetic operations. Either way the result is the same plan.
 */
public final class AssignmentPlanner {

  private AssignmentPlanner() {}

  public static RoutingPlan plan(
      Collection<PipelineDefinition> pipelines, Collection<SidecarRecord> sidecars) {
    return plan(pipelines, sidecars, RoutingPlan.EMPTY);
  }

  /** As {@link #plan(Collection, Collection, RoutingPlan, int)} with the default subset size. */
  public static RoutingPlan plan(
      Collection<PipelineDefinition> pipelines,
      Collection<SidecarRecord> sidecars,
      RoutingPlan previous) {
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
  public static RoutingPlan plan(
      Collection<PipelineDefinition> pipelines,
      Collection<SidecarRecord> sidecars,
      RoutingPlan previous,
      int subsetSize) {
    Map<String, SidecarRecord> byId = new HashMap<>();
    for (SidecarRecord sidecar : sidecars) {
      byId.put(sidecar.sidecarId(), sidecar);
    }
    return plan(pipelines, byId, previous, subsetSize, null);
  }

  /**
   * As {@link #plan(Collection, Collection, RoutingPlan, int)}, told which sidecars changed since
   * {@code previous} was computed: the work follows them, not the fleet.
   *
   * @param sidecars every registered sidecar, by id (read, never changed)
   * @param changed the ids of the sidecars registered, changed (another record instance) or removed
   *     since {@code previous} was computed from the same pipelines; null when that is not known,
   *     which plans every sidecar again. A changed sidecar left out gives a stale plan.
   * @throws IllegalArgumentException when {@code subsetSize} is below 1
   */
  public static RoutingPlan plan(
      Collection<PipelineDefinition> pipelines,
      Map<String, SidecarRecord> sidecars,
      RoutingPlan previous,
      int subsetSize,
      Set<String> changed) {
    RendezvousSubset.requireSize(subsetSize);
    List<PipelineDefinition> byName = new ArrayList<>(pipelines);
    Comparator<PipelineDefinition> name = Comparator.comparing(PipelineDefinition::name);
    byName.sort(name.thenComparing(PipelineDefinition::key, Comparator.naturalOrder()));
    Set<String> examine =
        changed != null && previous.subsetSize() == subsetSize && samePipelines(byName, previous)
            ? changed
            : null;
    List<SidecarRecord> ordered = null; // by id, for pipelines planned from nothing
    Map<String, PipelinePlan> plans = new HashMap<>();
    Map<String, PipelineMessages> messages = new HashMap<>();
    Set<String> redone = examine == null ? null : new HashSet<>(examine);
    for (PipelineDefinition pipeline : byName) {
      PipelinePlan before = previous.pipelines().get(pipeline.key());
      PipelineMessages beforeMessages = previous.messages(pipeline.key());
      PipelinePlan plan;
      ShardedMap<BitSet> local;
      if (examine != null) {
        plan = patched(before, examine, sidecars);
        local = patchedLocal(beforeMessages.local(), plan, examine);
      } else {
        if (ordered == null) {
          ordered = new ArrayList<>(sidecars.values());
          ordered.sort(Comparator.comparing(SidecarRecord::sidecarId));
        }
        plan = fresh(pipeline, ordered);
        local = freshLocal(plan);
      }
      PipelineMessages built =
          PipelineMessages.of(plan, beforeMessages, local, examine, sidecars::get, subsetSize);
      plans.put(pipeline.key(), plan);
      messages.put(pipeline.key(), built);
      if (redone != null) {
        if (built.redone() == null) {
          redone = null;
        } else {
          redone.addAll(built.redone());
        }
      }
    }
    return new RoutingPlan(
        plans, messages, participation(byName, messages, previous, examine), subsetSize, redone);
  }

  /** True when {@code previous} was planned for exactly these pipeline definitions. */
  private static boolean samePipelines(List<PipelineDefinition> pipelines, RoutingPlan previous) {
    if (previous.pipelines().size() != pipelines.size()) {
      return false;
    }
    for (PipelineDefinition pipeline : pipelines) {
      PipelinePlan before = previous.pipelines().get(pipeline.key());
      if (before == null || !before.pipeline().equals(pipeline)) {
        return false;
      }
    }
    return true;
  }

  /** Where the stages run, from every sidecar (in id order). */
  private static PipelinePlan fresh(PipelineDefinition pipeline, List<SidecarRecord> ordered) {
    List<StagePlan> stages = new ArrayList<>();
    for (Stage stage : pipeline.stages()) {
      List<SidecarRecord> hosts = new ArrayList<>();
      List<SidecarRecord> targets = new ArrayList<>();
      for (SidecarRecord sidecar : ordered) {
        if (hostsStage(sidecar, pipeline, stage)) {
          hosts.add(sidecar);
          if (sidecar.acceptsTraffic()) {
            targets.add(sidecar);
          }
        }
      }
      stages.add(new StagePlan(stage, hosts, targets));
    }
    return new PipelinePlan(pipeline, stages);
  }

  /**
   * {@code before} with the places of the {@code changed} sidecars redone; itself if none moved.
   */
  private static PipelinePlan patched(
      PipelinePlan before, Set<String> changed, Map<String, SidecarRecord> sidecars) {
    List<StagePlan> stages = new ArrayList<>(before.stages().size());
    boolean moved = false;
    for (StagePlan stage : before.stages()) {
      List<SidecarRecord> hosts = stage.hosts();
      List<SidecarRecord> targets = stage.targets();
      for (String id : changed) {
        SidecarRecord now = sidecars.get(id);
        boolean host = now != null && hostsStage(now, before.pipeline(), stage.stage());
        hosts = placed(hosts, id, host ? now : null);
        targets = placed(targets, id, host && now.acceptsTraffic() ? now : null);
      }
      if (hosts == stage.hosts() && targets == stage.targets()) {
        stages.add(stage);
      } else {
        stages.add(new StagePlan(stage.stage(), hosts, targets));
        moved = true;
      }
    }
    return moved ? new PipelinePlan(before.pipeline(), stages) : before;
  }

  /**
   * {@code sorted} (in id order) with the sidecar {@code id} as {@code record}, or without it when
   * null; the same list when that is what it holds already, else a new one.
   */
  private static List<SidecarRecord> placed(
      List<SidecarRecord> sorted, String id, SidecarRecord record) {
    int at = StagePlan.find(sorted, id);
    if (at >= 0 && sorted.get(at) == record) {
      return sorted;
    }
    if (at < 0 && record == null) {
      return sorted;
    }
    List<SidecarRecord> copy = sorted instanceof ArrayList<?> ? sorted : new ArrayList<>(sorted);
    if (at >= 0 && record != null) {
      copy.set(at, record);
    } else if (at >= 0) {
      copy.remove(at);
    } else {
      copy.add(-at - 1, record);
    }
    return copy;
  }

  private static boolean hostsStage(
      SidecarRecord sidecar, PipelineDefinition pipeline, Stage stage) {
    return sidecar.namespace().equals(pipeline.namespace())
        && sidecar.hosts(stage.name(), stage.role().serviceType());
  }

  /** Per host of a stage, the indexes of the stages it runs. */
  private static ShardedMap<BitSet> freshLocal(PipelinePlan plan) {
    Map<String, BitSet> local = new HashMap<>();
    for (StagePlan stage : plan.stages()) {
      for (SidecarRecord host : stage.hosts()) {
        local.computeIfAbsent(host.sidecarId(), id -> new BitSet()).set(stage.stage().index());
      }
    }
    ShardedMap.Builder<BitSet> built = ShardedMap.<BitSet>empty().toBuilder();
    local.forEach(built::put);
    return built.build();
  }

  /** {@code before} with the stages the {@code changed} sidecars run redone. */
  private static ShardedMap<BitSet> patchedLocal(
      ShardedMap<BitSet> before, PipelinePlan plan, Set<String> changed) {
    ShardedMap.Builder<BitSet> local = before.toBuilder();
    for (String id : changed) {
      BitSet runs = new BitSet();
      for (StagePlan stage : plan.stages()) {
        if (stage.hostedBy(id)) {
          runs.set(stage.stage().index());
        }
      }
      BitSet old = before.get(id);
      if (runs.isEmpty()) {
        local.remove(id);
      } else if (!runs.equals(old)) {
        local.put(id, runs);
      }
    }
    return local.build();
  }

  /**
   * Per sidecar, the pipelines it takes part in (in name order) with the stages it runs: redone for
   * the {@code changed} sidecars only, or for everyone when null.
   */
  private static ShardedMap<Map<String, BitSet>> participation(
      List<PipelineDefinition> byName,
      Map<String, PipelineMessages> messages,
      RoutingPlan previous,
      Set<String> changed) {
    if (changed == null) {
      Map<String, Map<String, BitSet>> taking = new HashMap<>();
      for (PipelineDefinition pipeline : byName) {
        messages
            .get(pipeline.key())
            .local()
            .forEach(
                (id, runs) ->
                    taking
                        .computeIfAbsent(id, k -> new LinkedHashMap<>())
                        .put(pipeline.key(), runs));
      }
      ShardedMap.Builder<Map<String, BitSet>> built =
          ShardedMap.<Map<String, BitSet>>empty().toBuilder();
      taking.forEach(built::put);
      return built.build();
    }
    ShardedMap.Builder<Map<String, BitSet>> participation = previous.participation().toBuilder();
    for (String id : changed) {
      Map<String, BitSet> taking = new LinkedHashMap<>();
      for (PipelineDefinition pipeline : byName) {
        BitSet runs = messages.get(pipeline.key()).local().get(id);
        if (runs != null) {
          taking.put(pipeline.key(), runs);
        }
      }
      if (taking.isEmpty()) {
        participation.remove(id);
      } else {
        participation.put(id, taking);
      }
    }
    return participation.build();
  }
}

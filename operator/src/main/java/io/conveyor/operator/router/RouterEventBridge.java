package io.conveyor.operator.router;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterListener;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.plan.PipelinePlan;
import io.conveyor.router.plan.RoutingPlan;
import io.conveyor.router.plan.StagePlan;
import io.conveyor.router.registry.SidecarRecord;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Turns the router's state changes into reconcile events, and answers the reconcilers' questions
 * about the router's state.
 *
 * <p>{@link RouterCore} notifies only meaningful changes (registrations, state or service changes,
 * expiries, new plans), never plain heartbeats. A sidecar change triggers its pod. A plan change
 * triggers only the pods whose set of assigned pipelines changed and the pipelines whose replica
 * counts changed, found by comparing with the previous plan; nothing polls over all pods.
 *
 * <p>Callbacks may arrive concurrently and out of order: each one re-reads the core's current state
 * under this bridge's lock, so the last one to run leaves the index right whatever the order.
 * Events are sent after the lock is released.
 */
public final class RouterEventBridge implements RouterListener {

  private final RouterCore core;
  private final Object lock = new Object();
  private final SidecarIndex index = new SidecarIndex();
  private Map<String, Set<String>> pipelinesBySidecar = Map.of();
  private Map<String, List<Integer>> replicasByPipeline = Map.of();

  private volatile Consumer<ResourceID> podEvents = id -> {};
  private volatile Consumer<ResourceID> pipelineEvents = id -> {};

  public RouterEventBridge(RouterCore core) {
    this.core = Objects.requireNonNull(core, "core");
  }

  public RouterCore core() {
    return core;
  }

  /** Where events for pods (ConveyorSidecar status) go. */
  public void onPodEvent(Consumer<ResourceID> sink) {
    this.podEvents = Objects.requireNonNull(sink);
  }

  /** Where events for Pipelines go. */
  public void onPipelineEvent(Consumer<ResourceID> sink) {
    this.pipelineEvents = Objects.requireNonNull(sink);
  }

  // ------------------------------------------------------------------ RouterListener

  @Override
  public void sidecarChanged(String sidecarId) {
    Optional<SidecarIndex.PodRef> pod;
    synchronized (lock) {
      Optional<SidecarRecord> record = core.sidecar(sidecarId);
      pod = record.isPresent() ? Optional.of(index.put(record.get())) : index.remove(sidecarId);
    }
    pod.filter(SidecarIndex.PodRef::named)
        .ifPresent(p -> podEvents.accept(new ResourceID(p.podName(), p.namespace())));
  }

  @Override
  public void planChanged(RoutingPlan plan) {
    List<ResourceID> pods = new ArrayList<>();
    List<ResourceID> pipelines = new ArrayList<>();
    synchronized (lock) {
      Map<String, Set<String>> assigned = new HashMap<>();
      Map<String, List<Integer>> replicas = new HashMap<>();
      for (PipelinePlan pipelinePlan : plan.pipelines().values()) {
        PipelineDefinition definition = pipelinePlan.pipeline();
        List<Integer> counts = new ArrayList<>();
        for (StagePlan stage : pipelinePlan.stages()) {
          counts.add(stage.replicas());
          counts.add(stage.hosts().size());
          stage
              .hosts()
              .forEach(
                  host ->
                      assigned
                          .computeIfAbsent(host.sidecarId(), k -> new TreeSet<>())
                          .add(definition.name()));
        }
        replicas.put(definition.key(), counts);
      }
      Set<String> sidecars = new TreeSet<>(assigned.keySet());
      sidecars.addAll(pipelinesBySidecar.keySet());
      for (String id : sidecars) {
        if (!Objects.equals(assigned.get(id), pipelinesBySidecar.get(id))) {
          index
              .pod(id)
              .filter(SidecarIndex.PodRef::named)
              .ifPresent(p -> pods.add(new ResourceID(p.podName(), p.namespace())));
        }
      }
      Set<String> keys = new TreeSet<>(replicas.keySet());
      keys.addAll(replicasByPipeline.keySet());
      for (String key : keys) {
        if (!Objects.equals(replicas.get(key), replicasByPipeline.get(key))) {
          int slash = key.indexOf('/');
          pipelines.add(new ResourceID(key.substring(slash + 1), key.substring(0, slash)));
        }
      }
      pipelinesBySidecar = assigned;
      replicasByPipeline = replicas;
    }
    pods.forEach(podEvents);
    pipelines.forEach(pipelineEvents);
  }

  // ------------------------------------------------------------------ queries

  /** The registration of a pod's sidecar, matched by pod UID (or namespace/name without UID). */
  public Optional<SidecarRecord> sidecarOf(String podUid, String namespace, String podName) {
    Optional<String> id;
    synchronized (lock) {
      id = index.find(podUid, namespace, podName);
    }
    return id.flatMap(core::sidecar);
  }

  /** Names of the pipelines a sidecar is assigned a stage of. */
  public List<String> pipelinesOf(String sidecarId) {
    return core
        .assignments(sidecarId)
        .map(AssignmentSet::getPipelinesList)
        .orElse(List.of())
        .stream()
        .map(PipelineAssignment::getPipeline)
        .toList();
  }

  /** Sidecars known to the index (for tests and metrics). */
  public int indexedSidecars() {
    synchronized (lock) {
      return index.size();
    }
  }
}

package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.identity.IdentityFormatException;
import io.conveyor.identity.WorkloadIdentity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every stage of every assigned pipeline runs, as seen from this sidecar: an immutable value
 * built from the router's assignment set and the services discovery found in the pod. A new table
 * replaces the old one whole; batches already under way keep the route they started with.
 *
 * <p>A stage is local when this pod runs a service with the stage's name and type — discovery is
 * the fresher source on the pod's own services, so it decides even before the router caught up.
 * Remote targets are the other sidecars the router listed for the stage, never this one.
 */
public final class RoutingTable {

  private static final Logger log = LoggerFactory.getLogger(RoutingTable.class);

  public static final RoutingTable EMPTY = new RoutingTable(0, Map.of());

  private final long version;
  private final Map<String, PipelineRoute> pipelines;

  private RoutingTable(long version, Map<String, PipelineRoute> pipelines) {
    this.version = version;
    this.pipelines = Map.copyOf(pipelines);
  }

  public static RoutingTable build(
      String selfSidecarId, AssignmentSet assignments, Collection<LocalService> localServices) {
    Map<String, LocalService> local = new HashMap<>();
    for (LocalService service : localServices) {
      local.putIfAbsent(key(service.name(), service.type()), service);
    }
    Map<String, PipelineRoute> routes = new HashMap<>();
    for (PipelineAssignment assignment : assignments.getPipelinesList()) {
      List<StageRoute> stages = new ArrayList<>();
      for (StageAssignment stage : assignment.getStagesList()) {
        List<RemoteTarget> remotes = new ArrayList<>();
        for (StageTarget target : stage.getTargetsList()) {
          if (!target.getSidecarId().equals(selfSidecarId)) {
            remotes.add(
                new RemoteTarget(
                    target.getSidecarId(),
                    target.getEndpoint(),
                    target.getPodName(),
                    target.getIdentity()));
          }
        }
        Optional<LocalService> service =
            Optional.ofNullable(local.get(key(stage.getName(), serviceType(stage.getRole()))));
        stages.add(
            new StageRoute(
                stage.getIndex(),
                stage.getName(),
                stage.getRole(),
                service,
                remotes,
                allowedCallers(assignment.getPipeline(), stage)));
      }
      if (assignment.getPipeline().isEmpty() || !wellFormed(stages)) {
        continue; // not a usable pipeline; the router never sends one, but never trust the wire
      }
      routes.put(
          assignment.getPipeline(),
          new PipelineRoute(
              assignment.getPipeline(),
              assignment.getGeneration(),
              stages,
              Delivery.fromProto(assignment.getDelivery())));
    }
    return new RoutingTable(assignments.getVersion(), routes);
  }

  /** This table without {@code pipelines}, at the same version. */
  public RoutingTable without(Set<String> pipelines) {
    if (pipelines.isEmpty()) {
      return this;
    }
    Map<String, PipelineRoute> kept = new HashMap<>(this.pipelines);
    kept.keySet().removeAll(pipelines);
    return new RoutingTable(version, kept);
  }

  public long version() {
    return version;
  }

  public Optional<PipelineRoute> pipeline(String name) {
    return Optional.ofNullable(pipelines.get(name));
  }

  public Set<String> pipelineNames() {
    return pipelines.keySet();
  }

  /** The pipelines whose source is {@code sourceName} and runs in this pod. */
  public List<PipelineRoute> pipelinesWithLocalSource(String sourceName) {
    return pipelines.values().stream()
        .filter(route -> route.source().name().equals(sourceName) && route.source().isLocal())
        .toList();
  }

  /**
   * Stages indexed 0..n-1 in order, with the roles a pipeline has: a source, transforms, one sink,
   * and optionally the dead-letter sink last. Anything else could end a batch early — e.g. a
   * pipeline without a sink would acknowledge records that no sink ever wrote.
   */
  /**
   * The identities the router allows to forward into {@code stage}. One the sidecar cannot parse is
   * left out (and so refused), with a warning: the router and the sidecar disagree on the form.
   */
  private static Set<WorkloadIdentity> allowedCallers(String pipeline, StageAssignment stage) {
    Set<WorkloadIdentity> allowed = new HashSet<>();
    for (String uri : stage.getAllowedCallersList()) {
      try {
        allowed.add(WorkloadIdentity.parse(uri));
      } catch (IdentityFormatException e) {
        log.warn(
            "pipeline {} stage {}: ignoring an allowed caller the router sent: {}",
            pipeline,
            stage.getName(),
            e.getMessage());
      }
    }
    return allowed;
  }

  private static boolean wellFormed(List<StageRoute> stages) {
    int n = stages.size();
    if (n < 2) {
      return false;
    }
    int sink = stages.get(n - 1).role() == StageRole.STAGE_ROLE_DEAD_LETTER ? n - 2 : n - 1;
    if (sink < 1) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      StageRoute stage = stages.get(i);
      StageRole expected =
          i == 0
              ? StageRole.STAGE_ROLE_SOURCE
              : i < sink
                  ? StageRole.STAGE_ROLE_TRANSFORM
                  : i == sink ? StageRole.STAGE_ROLE_SINK : StageRole.STAGE_ROLE_DEAD_LETTER;
      if (stage.index() != i || stage.role() != expected || stage.name().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  static ServiceType serviceType(StageRole role) {
    return switch (role) {
      case STAGE_ROLE_SOURCE -> ServiceType.SERVICE_TYPE_SOURCE;
      case STAGE_ROLE_TRANSFORM -> ServiceType.SERVICE_TYPE_TRANSFORM;
      case STAGE_ROLE_SINK, STAGE_ROLE_DEAD_LETTER -> ServiceType.SERVICE_TYPE_SINK;
      default -> ServiceType.SERVICE_TYPE_UNSPECIFIED;
    };
  }

  private static String key(String name, ServiceType type) {
    return type.getNumber() + "/" + name;
  }
}

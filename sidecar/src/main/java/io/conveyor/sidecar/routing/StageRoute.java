package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.StageRole;
import io.conveyor.identity.WorkloadIdentity;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How this sidecar reaches one stage of a pipeline: through the service of its own pod when it runs
 * the stage, otherwise through one of the remote sidecars that do.
 */
public record StageRoute(
    int index,
    String name,
    StageRole role,
    Optional<LocalService> local,
    List<RemoteTarget> remotes,
    Set<WorkloadIdentity> allowedCallers) {

  public StageRoute {
    remotes = List.copyOf(remotes);
    allowedCallers = Set.copyOf(allowedCallers);
  }

  /** A stage no identity may forward to (the router sent none: it runs without mutual TLS). */
  public StageRoute(
      int index,
      String name,
      StageRole role,
      Optional<LocalService> local,
      List<RemoteTarget> remotes) {
    this(index, name, role, local, remotes, Set.of());
  }

  public boolean isLocal() {
    return local.isPresent();
  }

  /** True when no one can execute the stage right now. */
  public boolean unreachable() {
    return local.isEmpty() && remotes.isEmpty();
  }

  /** Largest batch the stage may be called with, given the pipeline's limit. */
  public int batchLimit(int pipelineLimit) {
    int serviceLimit = local.map(LocalService::maxBatchSize).orElse(0);
    return serviceLimit > 0 ? Math.min(serviceLimit, pipelineLimit) : pipelineLimit;
  }
}

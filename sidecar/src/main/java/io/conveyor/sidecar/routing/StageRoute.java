package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.StageRole;
import java.util.List;
import java.util.Optional;

/**
 * How this sidecar reaches one stage of a pipeline: through the service of its own pod when it runs
 * the stage, otherwise through one of the remote sidecars that do.
 */
public record StageRoute(
    int index,
    String name,
    StageRole role,
    Optional<LocalService> local,
    List<RemoteTarget> remotes) {

  public StageRoute {
    remotes = List.copyOf(remotes);
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

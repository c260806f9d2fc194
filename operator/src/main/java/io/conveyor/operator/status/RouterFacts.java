package io.conveyor.operator.status;

import io.conveyor.router.registry.SidecarRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the router knows of one pod's sidecar.
 *
 * @param sidecar the registration, when the router has one for the pod
 * @param pipelines names of the pipelines the sidecar is assigned a stage of
 * @param warmUpUntil set while this router has only just taken over as leader: sidecars are still
 *     re-registering, so an absent registration does not yet mean the sidecar is lost
 */
public record RouterFacts(
    Optional<SidecarRecord> sidecar, List<String> pipelines, Optional<Instant> warmUpUntil) {

  public RouterFacts {
    pipelines = List.copyOf(pipelines);
  }

  public static RouterFacts unregistered(Optional<Instant> warmUpUntil) {
    return new RouterFacts(Optional.empty(), List.of(), warmUpUntil);
  }

  public boolean warmingUp(Instant now) {
    return warmUpUntil.isPresent() && now.isBefore(warmUpUntil.get());
  }
}

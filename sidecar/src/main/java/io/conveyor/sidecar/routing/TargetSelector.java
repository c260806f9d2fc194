package io.conveyor.sidecar.routing;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks the remote sidecar a batch goes to: the least loaded of the targets that are not ejected,
 * ties broken round-robin so that an idle system still spreads batches across replicas. When every
 * candidate is ejected it picks the one that comes back first rather than failing: a
 * possibly-recovered replica beats a guaranteed failure (Envoy's "panic" routing).
 */
public final class TargetSelector {

  private final EndpointHealth health;
  private final AtomicInteger roundRobin = new AtomicInteger();

  public TargetSelector(EndpointHealth health) {
    this.health = health;
  }

  /** A target from {@code candidates} not in {@code exclude}, if there is one. */
  public Optional<RemoteTarget> pick(List<RemoteTarget> candidates, Set<String> exclude) {
    int n = candidates.size();
    if (n == 0) {
      return Optional.empty();
    }
    // First pass: the lowest load among the usable targets and how many share it. Rotating the
    // start of the list instead would skew ties: with one of three replicas ejected, the one after
    // it in the list would get two batches for every one the other gets.
    RemoteTarget firstBest = null;
    int bestLoad = Integer.MAX_VALUE;
    int ties = 0;
    RemoteTarget soonestBack = null;
    long soonestRemaining = Long.MAX_VALUE;
    for (RemoteTarget candidate : candidates) {
      if (exclude.contains(candidate.endpoint())) {
        continue;
      }
      long remaining = health.ejectionRemaining(candidate.endpoint());
      if (remaining > 0) {
        if (remaining < soonestRemaining) {
          soonestRemaining = remaining;
          soonestBack = candidate;
        }
        continue;
      }
      int load = health.inFlight(candidate.endpoint());
      if (load < bestLoad) {
        bestLoad = load;
        ties = 1;
        firstBest = candidate;
      } else if (load == bestLoad) {
        ties++;
      }
    }
    if (firstBest == null) {
      return Optional.ofNullable(soonestBack);
    }
    if (ties == 1) {
      return Optional.of(firstBest);
    }
    // Second pass: the tied targets in turn. Loads may have moved meanwhile; then the first best
    // found is as good an answer as any.
    int turn = Math.floorMod(roundRobin.getAndIncrement(), ties);
    for (RemoteTarget candidate : candidates) {
      if (exclude.contains(candidate.endpoint())
          || health.ejectionRemaining(candidate.endpoint()) > 0
          || health.inFlight(candidate.endpoint()) != bestLoad) {
        continue;
      }
      if (turn-- == 0) {
        return Optional.of(candidate);
      }
    }
    return Optional.of(firstBest);
  }

  public EndpointHealth health() {
    return health;
  }
}

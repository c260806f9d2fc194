package io.conveyor.sidecar.routing;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks the remote sidecar a batch goes to: the least loaded of the targets that are not ejected,
 * ties broken round-robin so that an idle system still spreads batches across replicas. When
 * every candidate is ejected it picks the one that comes back first rather than failing: a
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
    int offset = Math.floorMod(roundRobin.getAndIncrement(), n);
    RemoteTarget best = null;
    int bestLoad = Integer.MAX_VALUE;
    RemoteTarget soonestBack = null;
    long soonestRemaining = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      RemoteTarget candidate = candidates.get((offset + i) % n);
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
        best = candidate;
      }
    }
    return Optional.ofNullable(best != null ? best : soonestBack);
  }

  public EndpointHealth health() {
    return health;
  }
}

package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Probes every port of a range in parallel, on a bounded pool, skipping the sidecar's own ports. A
 * scan takes about one probe deadline however many silent listeners the range holds.
 */
public final class PortScanner {

  private final PortProber prober;
  private final int firstPort;
  private final int lastPort;
  private final Set<Integer> ownPorts;
  private final ExecutorService pool;

  public PortScanner(
      PortProber prober, int firstPort, int lastPort, Set<Integer> ownPorts, ExecutorService pool) {
    this.prober = prober;
    this.firstPort = firstPort;
    this.lastPort = lastPort;
    this.ownPorts = Set.copyOf(ownPorts);
    this.pool = pool;
  }

  /**
   * The result of one scan: services found, in port order, every non-closed port skipped, and
   * whether some probe ran out of time (then a service may have been missed).
   */
  public record Scan(
      List<DiscoveredService> services, List<ProbeResult> skipped, boolean inconclusive) {}

  public Scan scan() throws InterruptedException {
    List<Future<ProbeResult>> probes = new ArrayList<>();
    for (int port = firstPort; port <= lastPort; port++) {
      if (!ownPorts.contains(port)) {
        int p = port;
        probes.add(pool.submit(() -> prober.probe(p)));
      }
    }
    List<ProbeResult> results = new ArrayList<>();
    for (Future<ProbeResult> probe : probes) {
      try {
        results.add(probe.get());
      } catch (ExecutionException e) {
        // PortProber does not throw; a bug in it must not stop discovery of the other ports.
        results.add(ProbeResult.skipped(-1, "probe failed: " + e.getCause()));
      }
    }
    results.sort(Comparator.comparingInt(ProbeResult::port));
    List<DiscoveredService> services = new ArrayList<>();
    List<ProbeResult> skipped = new ArrayList<>();
    boolean inconclusive = false;
    for (ProbeResult result : results) {
      inconclusive |= result.inconclusive();
      services.addAll(result.services());
      if (result.services().isEmpty() && !result.closed()) {
        skipped.add(result);
      }
    }
    return new Scan(services, skipped, inconclusive);
  }
}

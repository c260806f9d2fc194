package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
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
   * The result of one scan: services found, in port order, every non-closed port skipped, and the
   * ports whose probe ran out of time (a service there may have been missed).
   */
  public record Scan(
      List<DiscoveredService> services, List<ProbeResult> skipped, Set<Integer> timedOutPorts) {

    public Scan {
      services = List.copyOf(services);
      skipped = List.copyOf(skipped);
      timedOutPorts = Set.copyOf(timedOutPorts);
    }

    public boolean inconclusive() {
      return !timedOutPorts.isEmpty();
    }
  }

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
    Set<Integer> timedOut = new HashSet<>();
    for (ProbeResult result : results) {
      if (result.inconclusive()) {
        timedOut.add(result.port());
      }
      services.addAll(result.services());
      if (result.services().isEmpty() && !result.closed()) {
        skipped.add(result);
      }
    }
    return new Scan(services, skipped, timedOut);
  }
}

package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Probes every port of a range in parallel, on a bounded pool, skipping the sidecar's own ports. A
 * scan takes about one probe deadline however many silent listeners the range holds.
 *
 * <p>With the pod's socket table ({@link ListeningSockets}) it connects to fewer ports: a port
 * nobody listens on is closed without a connection attempt, and a listener that gave the same
 * settled answer twice (not plaintext gRPC — an HTTP server, a TLS port — or no Conveyor service)
 * is not probed again while the same socket holds the port, except every {@value #RECHECK_EVERY}
 * scans. An HTTP server in the scan range then does not log a stray connection every few seconds
 * for the pod's whole life.
 */
public final class PortScanner {

  /** Consecutive identical settled answers after which a listener is taken at its word. */
  static final int SETTLED_AFTER = 2;

  /** A listener taken at its word is still probed every this many scans, as a safety net. */
  static final int RECHECK_EVERY = 30;

  private final PortProber prober;
  private final int firstPort;
  private final int lastPort;
  private final Set<Integer> ownPorts;
  private final ExecutorService pool;
  private final Optional<ListeningSockets> sockets;
  private final Map<Integer, Settled> settled = new HashMap<>();

  /** A listener's settled answer, the socket that gave it, how often, and scans since probed. */
  private record Settled(long inode, ProbeResult result, int times, int scansSince) {}

  /** A scanner that probes every port of the range each scan. */
  public PortScanner(
      PortProber prober, int firstPort, int lastPort, Set<Integer> ownPorts, ExecutorService pool) {
    this(prober, firstPort, lastPort, ownPorts, pool, Optional.empty());
  }

  /**
   * @param sockets the pod's socket table, when the discovery host is the pod's loopback
   */
  public PortScanner(
      PortProber prober,
      int firstPort,
      int lastPort,
      Set<Integer> ownPorts,
      ExecutorService pool,
      Optional<ListeningSockets> sockets) {
    this.prober = prober;
    this.firstPort = firstPort;
    this.lastPort = lastPort;
    this.ownPorts = Set.copyOf(ownPorts);
    this.pool = pool;
    this.sockets = sockets;
  }

  /** A scanner that reads this process's socket table (for a loopback discovery host). */
  public static PortScanner withSocketTable(
      PortProber prober, int firstPort, int lastPort, Set<Integer> ownPorts, ExecutorService pool) {
    return new PortScanner(
        prober, firstPort, lastPort, ownPorts, pool, Optional.of(ListeningSockets.ofThisProcess()));
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

  public synchronized Scan scan() throws InterruptedException {
    Map<Integer, Long> listening = sockets.flatMap(ListeningSockets::read).orElse(null);
    List<ProbeResult> results = new ArrayList<>();
    List<Future<ProbeResult>> probes = new ArrayList<>();
    for (int port = firstPort; port <= lastPort; port++) {
      if (ownPorts.contains(port)) {
        continue;
      }
      ProbeResult known = listening == null ? null : withoutProbing(port, listening.get(port));
      if (known != null) {
        results.add(known);
      } else {
        int p = port;
        probes.add(pool.submit(() -> prober.probe(p)));
      }
    }
    for (Future<ProbeResult> probe : probes) {
      try {
        ProbeResult result = probe.get();
        remember(result, listening == null ? null : listening.get(result.port()));
        results.add(result);
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

  /** The port's result when the socket table makes probing needless, else null. */
  private ProbeResult withoutProbing(int port, Long inode) {
    if (inode == null) {
      settled.remove(port);
      return ProbeResult.skipped(port, PortProber.CLOSED);
    }
    Settled known = settled.get(port);
    if (known == null
        || known.inode() != inode
        || known.times() < SETTLED_AFTER
        || known.scansSince() + 1 >= RECHECK_EVERY) {
      return null;
    }
    settled.put(port, new Settled(inode, known.result(), known.times(), known.scansSince() + 1));
    return known.result();
  }

  /**
   * The kind of settled answer: how a non-gRPC listener failed the call varies from probe to probe.
   */
  private static String answer(ProbeResult result) {
    String reason = result.skippedBecause();
    return reason.startsWith(PortProber.NOT_GRPC) ? PortProber.NOT_GRPC : reason;
  }

  private void remember(ProbeResult result, Long inode) {
    if (inode == null || !result.settled()) {
      settled.remove(result.port());
      return;
    }
    Settled known = settled.get(result.port());
    boolean same =
        known != null && known.inode() == inode && answer(known.result()).equals(answer(result));
    settled.put(result.port(), new Settled(inode, result, same ? known.times() + 1 : 1, 0));
  }
}

package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.time.Duration;
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
import java.util.function.LongSupplier;

/**
 * Probes every port of a range in parallel, on a bounded pool, skipping the sidecar's own ports. A
 * scan takes about one probe deadline however many silent listeners the range holds.
 *
 * <p>With the pod's socket table ({@link ListeningSockets}) it connects to fewer ports: a port
 * nobody listens on is closed without a connection attempt, and a listener that gave the same
 * settled answer (not plaintext gRPC — an HTTP server, a TLS port — or no Conveyor service) at two
 * probes at least {@code settleAfter} apart is not probed again while the same sockets hold the
 * port, except every {@code recheckEvery}. An HTTP server in the scan range then does not log a
 * stray connection every few seconds for the pod's whole life, while a gRPC server that answered
 * UNAVAILABLE during its start-up is not taken at its word.
 */
public final class PortScanner {

  /** Services in the order scans report them: by port, then by gRPC service name. */
  static final Comparator<DiscoveredService> SERVICE_ORDER =
      Comparator.comparingInt(TimeoutGrace::portOf)
          .thenComparing(DiscoveredService::getGrpcService);

  /**
   * How the socket table is used.
   *
   * @param settleAfter least time between the two probes that settle a listener's answer
   * @param recheckEvery a settled listener is probed again after this long, as a safety net
   * @param nanoTime the clock
   */
  public record SocketTable(
      ListeningSockets sockets,
      Duration settleAfter,
      Duration recheckEvery,
      LongSupplier nanoTime) {

    /** This process's socket table (the pod's, for a loopback discovery host). */
    public static SocketTable ofThisProcess(Duration settleAfter, Duration recheckEvery) {
      return new SocketTable(
          ListeningSockets.ofThisProcess(), settleAfter, recheckEvery, System::nanoTime);
    }
  }

  private final PortProber prober;
  private final int firstPort;
  private final int lastPort;
  private final Set<Integer> ownPorts;
  private final ExecutorService pool;
  private final Optional<SocketTable> table;
  private final Map<Integer, Settled> settled = new HashMap<>();
  private final Map<Integer, Set<Long>> lastSockets = new HashMap<>();

  /** A listener's settled answer, the sockets that gave it, when first given and last probed. */
  private record Settled(
      Set<Long> sockets, ProbeResult result, long firstNanos, long probedNanos) {}

  /** A scanner that probes every port of the range each scan. */
  public PortScanner(
      PortProber prober, int firstPort, int lastPort, Set<Integer> ownPorts, ExecutorService pool) {
    this(prober, firstPort, lastPort, ownPorts, pool, Optional.empty());
  }

  /**
   * @param table the pod's socket table, when the discovery host is the pod's loopback
   */
  public PortScanner(
      PortProber prober,
      int firstPort,
      int lastPort,
      Set<Integer> ownPorts,
      ExecutorService pool,
      Optional<SocketTable> table) {
    this.prober = prober;
    this.firstPort = firstPort;
    this.lastPort = lastPort;
    this.ownPorts = Set.copyOf(ownPorts);
    this.pool = pool;
    this.table = table;
  }

  /**
   * The result of one scan: services found, in {@link #SERVICE_ORDER}, every non-closed port
   * skipped, the ports whose probe ran out of time (a service there may have been missed), and the
   * ports whose listening sockets changed since the previous scan (a new listener).
   */
  public record Scan(
      List<DiscoveredService> services,
      List<ProbeResult> skipped,
      Set<Integer> timedOutPorts,
      Set<Integer> replacedPorts) {

    public Scan {
      services = List.copyOf(services);
      skipped = List.copyOf(skipped);
      timedOutPorts = Set.copyOf(timedOutPorts);
      replacedPorts = Set.copyOf(replacedPorts);
    }

    public Scan(
        List<DiscoveredService> services, List<ProbeResult> skipped, Set<Integer> timedOutPorts) {
      this(services, skipped, timedOutPorts, Set.of());
    }

    public boolean inconclusive() {
      return !timedOutPorts.isEmpty();
    }
  }

  public synchronized Scan scan() throws InterruptedException {
    Map<Integer, Set<Long>> listening =
        table.flatMap(t -> t.sockets().read()).filter(this::trustworthy).orElse(null);
    long now = table.map(t -> t.nanoTime().getAsLong()).orElse(0L);
    List<ProbeResult> results = new ArrayList<>();
    Set<Integer> replaced = new HashSet<>();
    List<Future<ProbeResult>> probes = new ArrayList<>();
    for (int port = firstPort; port <= lastPort; port++) {
      if (ownPorts.contains(port)) {
        continue;
      }
      ProbeResult known = null;
      if (listening != null) {
        Set<Long> sockets = listening.get(port);
        Set<Long> before =
            sockets == null ? lastSockets.remove(port) : lastSockets.put(port, sockets);
        if (before != null && sockets != null && !before.equals(sockets)) {
          replaced.add(port);
        }
        known = withoutProbing(port, sockets, now);
      }
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
        remember(result, listening == null ? null : listening.get(result.port()), now);
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
    services.sort(SERVICE_ORDER);
    return new Scan(services, skipped, timedOut, replaced);
  }

  /**
   * A table that does not list the sidecar's own listening ports is not the pod's (or not
   * complete): trusting it would make every port look closed.
   */
  private boolean trustworthy(Map<Integer, Set<Long>> listening) {
    return ownPorts.isEmpty() || ownPorts.stream().anyMatch(listening::containsKey);
  }

  /** The port's result when the socket table makes probing needless, else null. */
  private ProbeResult withoutProbing(int port, Set<Long> sockets, long now) {
    if (sockets == null) {
      settled.remove(port);
      return ProbeResult.skipped(port, PortProber.CLOSED);
    }
    Settled known = settled.get(port);
    SocketTable t = table.orElseThrow();
    if (known == null
        || !known.sockets().equals(sockets)
        || known.probedNanos() - known.firstNanos() < t.settleAfter().toNanos()
        || now - known.probedNanos() >= t.recheckEvery().toNanos()) {
      return null;
    }
    return known.result();
  }

  /**
   * The kind of settled answer: how a non-gRPC listener failed the call varies from probe to probe.
   */
  private static String answer(ProbeResult result) {
    String reason = result.skippedBecause();
    return reason.startsWith(PortProber.NOT_GRPC) ? PortProber.NOT_GRPC : reason;
  }

  private void remember(ProbeResult result, Set<Long> sockets, long now) {
    if (sockets == null || !result.settled()) {
      settled.remove(result.port());
      return;
    }
    Settled known = settled.get(result.port());
    boolean same =
        known != null
            && known.sockets().equals(sockets)
            && answer(known.result()).equals(answer(result));
    settled.put(result.port(), new Settled(sockets, result, same ? known.firstNanos() : now, now));
  }
}

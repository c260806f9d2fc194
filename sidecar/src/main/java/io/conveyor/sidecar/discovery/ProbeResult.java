package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.util.List;

/**
 * What probing one port found: Conveyor services, or why the port was skipped (closed, not gRPC,
 * silent, no Conveyor service...).
 *
 * @param inconclusive the probe ran out of time somewhere (connect, reflection, Describe): a slow
 *     service, e.g. one still warming up, may have been missed, so the port is worth a retry soon
 * @param settled the listener gave an answer that holds while it lives: it does not speak plaintext
 *     gRPC, or its reflection lists no Conveyor service
 */
public record ProbeResult(
    int port,
    List<DiscoveredService> services,
    String skippedBecause,
    boolean inconclusive,
    boolean settled) {

  static final String NO_CONVEYOR_SERVICE = "no Conveyor service";

  public ProbeResult {
    services = List.copyOf(services);
  }

  static ProbeResult found(int port, List<DiscoveredService> services, boolean inconclusive) {
    return new ProbeResult(
        port, services, services.isEmpty() ? NO_CONVEYOR_SERVICE : "", inconclusive, false);
  }

  static ProbeResult skipped(int port, String reason) {
    return new ProbeResult(port, List.of(), reason, false, false);
  }

  static ProbeResult timedOut(int port, String reason) {
    return new ProbeResult(port, List.of(), reason, true, false);
  }

  static ProbeResult notConveyor(int port, String reason) {
    return new ProbeResult(port, List.of(), reason, false, true);
  }

  public boolean closed() {
    return skippedBecause.equals(PortProber.CLOSED);
  }
}

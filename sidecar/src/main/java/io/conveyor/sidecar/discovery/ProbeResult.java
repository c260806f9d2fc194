package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import java.util.List;

/**
 * What probing one port found: Conveyor services, or why the port was skipped (closed, not gRPC,
 * silent, no Conveyor service...).
 */
public record ProbeResult(int port, List<DiscoveredService> services, String skippedBecause) {

  public ProbeResult {
    services = List.copyOf(services);
  }

  static ProbeResult found(int port, List<DiscoveredService> services) {
    return new ProbeResult(port, services, services.isEmpty() ? "no Conveyor service" : "");
  }

  static ProbeResult skipped(int port, String reason) {
    return new ProbeResult(port, List.of(), reason);
  }

  public boolean closed() {
    return skippedBecause.equals(PortProber.CLOSED);
  }
}

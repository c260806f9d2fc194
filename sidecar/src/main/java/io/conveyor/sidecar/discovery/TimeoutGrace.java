package io.conveyor.sidecar.discovery;

import io.conveyor.common.config.HostPort;
import io.conveyor.etl.v1.DiscoveredService;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps a port's services through a few scans whose probe of that port ran out of time. A service
 * that is busy (a GC pause, a CPU-starved pod) is then not dropped from every pipeline's targets
 * fleet-wide for being slow once, only to be added back a second later. A port that keeps timing
 * out loses its services after {@code maxScans} scans: a hung service must not stay a target. A
 * conclusive probe — the service is gone, or answered — always wins at once, and so does a new
 * listener on the port (the app restarted: what it serves now is not known).
 *
 * <p>Not thread-safe: used by the discovery loop's single scan thread.
 */
final class TimeoutGrace {

  private final int maxScans;
  private final Map<Integer, Integer> consecutiveTimeouts = new HashMap<>();

  TimeoutGrace(int maxScans) {
    this.maxScans = maxScans;
  }

  /** What {@code scan} found, plus the services of {@code previous} that a timeout may hide. */
  List<DiscoveredService> services(PortScanner.Scan scan, List<DiscoveredService> previous) {
    consecutiveTimeouts.keySet().retainAll(scan.timedOutPorts());
    for (int port : scan.timedOutPorts()) {
      consecutiveTimeouts.merge(port, 1, Integer::sum);
    }
    Set<String> found = new HashSet<>();
    scan.services().forEach(s -> found.add(key(s)));
    List<DiscoveredService> services = new ArrayList<>(scan.services());
    for (DiscoveredService service : previous) {
      int port = portOf(service);
      Integer timeouts = consecutiveTimeouts.get(port);
      if (timeouts != null
          && timeouts <= maxScans
          && !scan.replacedPorts().contains(port)
          && !found.contains(key(service))) {
        services.add(service);
      }
    }
    if (services.size() > scan.services().size()) {
      services.sort(PortScanner.SERVICE_ORDER); // as scans order them: no change to report
    }
    return services;
  }

  private static String key(DiscoveredService service) {
    return service.getEndpoint() + "/" + service.getGrpcService();
  }

  /** The port of a service's endpoint, which the prober writes as a {@link HostPort}. */
  static int portOf(DiscoveredService service) {
    return HostPort.parse(service.getEndpoint()).port();
  }
}

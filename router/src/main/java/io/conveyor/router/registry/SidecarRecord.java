package io.conveyor.router.registry;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the router knows of one registered sidecar. Immutable: every change produces a new record.
 *
 * @param heartbeatInterval the period the sidecar promised; three missed periods expire it
 * @param workloadIdentity the SPIFFE URI its client certificate proved at registration, which other
 *     sidecars check before they send it a batch; empty without mutual TLS
 */
public record SidecarRecord(
    String sidecarId,
    String namespace,
    String podName,
    String podUid,
    String podIp,
    String dataPlaneEndpoint,
    String sidecarVersion,
    SidecarState state,
    List<DiscoveredService> services,
    Duration heartbeatInterval,
    Instant registeredAt,
    Instant lastHeartbeat,
    SidecarLoad load,
    String workloadIdentity) {

  public SidecarRecord {
    workloadIdentity = workloadIdentity == null ? "" : workloadIdentity;
    Objects.requireNonNull(sidecarId, "sidecarId");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(dataPlaneEndpoint, "dataPlaneEndpoint");
    services = List.copyOf(services);
  }

  /** True when this sidecar's pod runs a healthy service with that name and type. */
  public boolean hosts(String serviceName, ServiceType type) {
    for (DiscoveredService service : services) {
      if (service.getDescription().getName().equals(serviceName)
          && service.getDescription().getType() == type
          && service.getHealth() != ServiceHealth.SERVICE_HEALTH_NOT_SERVING) {
        return true;
      }
    }
    return false;
  }

  /** True when other sidecars may send batches to it. */
  public boolean acceptsTraffic() {
    return state != SidecarState.SIDECAR_STATE_DRAINING;
  }

  /** When the router gives up on it if no heartbeat arrives. */
  public Instant expiresAt(int missedHeartbeats) {
    return lastHeartbeat.plus(heartbeatInterval.multipliedBy(missedHeartbeats));
  }

  public SidecarRecord withHeartbeat(
      Instant at, SidecarState newState, List<DiscoveredService> newServices, SidecarLoad newLoad) {
    return new SidecarRecord(
        sidecarId,
        namespace,
        podName,
        podUid,
        podIp,
        dataPlaneEndpoint,
        sidecarVersion,
        newState,
        newServices,
        heartbeatInterval,
        registeredAt,
        at,
        newLoad,
        workloadIdentity);
  }

  /**
   * True when the two records differ in something other observers care about (state, services,
   * endpoint), as opposed to the heartbeat time and load, which change all the time.
   */
  public boolean differsMeaningfullyFrom(SidecarRecord other) {
    return !state.equals(other.state)
        || !services.equals(other.services)
        || !dataPlaneEndpoint.equals(other.dataPlaneEndpoint)
        || !Objects.equals(podIp, other.podIp);
  }

  /** Identity of the pod, for replacing the record of a restarted sidecar in the same pod. */
  public String podKey() {
    if (podUid != null && !podUid.isEmpty()) {
      return "uid:" + podUid;
    }
    if (podName != null && !podName.isEmpty() && !"unknown".equals(podName)) {
      return "name:" + namespace + "/" + podName;
    }
    return "sidecar:" + sidecarId;
  }
}

package io.conveyor.operator.bench;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarState;
import io.fabric8.kubernetes.api.model.Pod;
import io.grpc.Channel;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The control-plane calls of one sidecar, as the benchmark makes them for 500 pods: registration
 * and heartbeats over a shared gRPC channel.
 *
 * <p>Why not the real sidecar, as the integration tests use: each real one runs its own servers,
 * discovery and thread pools, and 500 of them do not fit in one JVM next to the operator being
 * measured. The benchmark measures the operator, which sees only these calls.
 */
final class SimulatedSidecar {

  private final String sidecarId;
  private final Pod pod;
  private final List<DiscoveredService> services;
  private volatile int heartbeatIntervalSeconds = 1;
  private final SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub stub;
  private long appliedVersion;
  private int registrations;

  /** A sidecar that talks over a channel it does not own (many sidecars, one channel). */
  SimulatedSidecar(String sidecarId, Pod pod, Channel channel, DiscoveredService... services) {
    this.sidecarId = sidecarId;
    this.pod = pod;
    this.services = List.of(services);
    this.stub = SidecarCoordinatorGrpc.newBlockingStub(channel);
  }

  synchronized RegisterSidecarResponse register() {
    RegisterSidecarResponse response =
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .registerSidecar(
                RegisterSidecarRequest.newBuilder()
                    .setIdentity(
                        SidecarIdentity.newBuilder()
                            .setSidecarId(sidecarId)
                            .setPodName(pod.getMetadata().getName())
                            .setNamespace(pod.getMetadata().getNamespace())
                            .setPodUid(pod.getMetadata().getUid())
                            .setPodIp(ip()))
                    .setDataPlaneEndpoint(ip() + ":9091")
                    .addAllServices(services)
                    .setSidecarVersion("0.1.0-test")
                    .setState(SidecarState.SIDECAR_STATE_SERVING)
                    .setHeartbeatIntervalSeconds(heartbeatIntervalSeconds)
                    .build());
    appliedVersion = response.getAssignments().getVersion();
    registrations++;
    return response;
  }

  synchronized HeartbeatResponse heartbeat() {
    HeartbeatResponse response =
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .heartbeat(
                HeartbeatRequest.newBuilder()
                    .setSidecarId(sidecarId)
                    .setAssignmentVersion(appliedVersion)
                    .setState(SidecarState.SIDECAR_STATE_SERVING)
                    .addAllServices(services)
                    .build());
    response.getCommandsList().stream()
        .filter(c -> c.hasAssign())
        .forEach(c -> appliedVersion = c.getAssign().getVersion());
    return response;
  }

  /** The heartbeat period announced at the next registration (1 s unless set). */
  SimulatedSidecar withHeartbeatInterval(int seconds) {
    this.heartbeatIntervalSeconds = seconds;
    return this;
  }

  synchronized int registrations() {
    return registrations;
  }

  private String ip() {
    return pod.getStatus() == null || pod.getStatus().getPodIP() == null
        ? "10.0.0.1"
        : pod.getStatus().getPodIP();
  }
}

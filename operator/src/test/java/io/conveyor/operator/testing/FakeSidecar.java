package io.conveyor.operator.testing;

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
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The control-plane half of a sidecar, over a real gRPC channel: registers for a pod, heartbeats,
 * and registers again when the router answers NOT_FOUND (as a real sidecar does after a router
 * fail-over).
 */
public final class FakeSidecar implements AutoCloseable {

  private final String sidecarId;
  private final Pod pod;
  private volatile List<DiscoveredService> services;
  private volatile int heartbeatIntervalSeconds = 1;
  private ManagedChannel ownedChannel;
  private SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub stub;
  private long appliedVersion;
  private int registrations;

  /** A sidecar with a channel of its own to the router on {@code routerPort}. */
  public FakeSidecar(String sidecarId, Pod pod, int routerPort, DiscoveredService... services) {
    this.sidecarId = sidecarId;
    this.pod = pod;
    this.services = List.of(services);
    connectTo(routerPort);
  }

  /** A sidecar that talks over a channel it does not own (many sidecars, one channel). */
  public FakeSidecar(String sidecarId, Pod pod, Channel channel, DiscoveredService... services) {
    this.sidecarId = sidecarId;
    this.pod = pod;
    this.services = List.of(services);
    this.stub = SidecarCoordinatorGrpc.newBlockingStub(channel);
  }

  /** Points the sidecar at another router, as the Service does after a fail-over. */
  public synchronized void connectTo(int routerPort) {
    if (ownedChannel != null) {
      ownedChannel.shutdownNow();
    }
    ownedChannel = ManagedChannelBuilder.forAddress("127.0.0.1", routerPort).usePlaintext().build();
    stub = SidecarCoordinatorGrpc.newBlockingStub(ownedChannel);
  }

  public synchronized RegisterSidecarResponse register() {
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

  public synchronized HeartbeatResponse heartbeat() {
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

  /** A heartbeat, or a registration when the router does not know this sidecar (any more). */
  public synchronized void heartbeatOrRegister() {
    try {
      heartbeat();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
      register();
    }
  }

  /** The heartbeat period announced at the next registration (1 s unless set). */
  public FakeSidecar withHeartbeatInterval(int seconds) {
    this.heartbeatIntervalSeconds = seconds;
    return this;
  }

  public synchronized int registrations() {
    return registrations;
  }

  public String sidecarId() {
    return sidecarId;
  }

  private String ip() {
    return pod.getStatus() == null || pod.getStatus().getPodIP() == null
        ? "10.0.0.1"
        : pod.getStatus().getPodIP();
  }

  @Override
  public synchronized void close() {
    if (ownedChannel != null) {
      ownedChannel.shutdownNow();
    }
  }
}

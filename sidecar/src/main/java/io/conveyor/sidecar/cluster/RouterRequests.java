package io.conveyor.sidecar.cluster;

import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.Lifecycle;
import java.util.List;
import java.util.function.Supplier;

/** What this sidecar tells the router, read fresh for every request. */
final class RouterRequests {

  private final SidecarConfig config;
  private final Lifecycle lifecycle;
  private final Supplier<List<DiscoveredService>> services;
  private final Supplier<SidecarLoad> load;

  RouterRequests(
      SidecarConfig config,
      Lifecycle lifecycle,
      Supplier<List<DiscoveredService>> services,
      Supplier<SidecarLoad> load) {
    this.config = config;
    this.lifecycle = lifecycle;
    this.services = services;
    this.load = load;
  }

  RegisterSidecarRequest register() {
    return RegisterSidecarRequest.newBuilder()
        .setIdentity(identity())
        .setDataPlaneEndpoint(config.dataPlaneEndpoint())
        .addAllServices(services.get())
        .setSidecarVersion(SidecarVersion.VERSION)
        .setState(lifecycle.state())
        .setHeartbeatIntervalSeconds((int) config.heartbeatInterval().toSeconds())
        .build();
  }

  HeartbeatRequest heartbeat(long appliedVersion) {
    return HeartbeatRequest.newBuilder()
        .setSidecarId(config.sidecarId())
        .setAssignmentVersion(appliedVersion)
        .setState(lifecycle.state())
        .addAllServices(services.get())
        .setLoad(load.get())
        .build();
  }

  WatchAssignmentsRequest watch(long knownVersion) {
    return WatchAssignmentsRequest.newBuilder()
        .setSidecarId(config.sidecarId())
        .setKnownVersion(knownVersion)
        .setAcceptsDeltas(true)
        .build();
  }

  DeregisterSidecarRequest deregister(String reason) {
    return DeregisterSidecarRequest.newBuilder()
        .setSidecarId(config.sidecarId())
        .setReason(reason)
        .build();
  }

  private SidecarIdentity identity() {
    return SidecarIdentity.newBuilder()
        .setSidecarId(config.sidecarId())
        .setPodName(config.podName())
        .setNamespace(config.namespace())
        .setPodUid(config.podUid())
        .setPodIp(config.podIp())
        .build();
  }
}

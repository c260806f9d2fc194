package io.conveyor.sidecar.cluster;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.Lifecycle;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.LocalService;
import io.conveyor.sidecar.routing.Routes;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cluster side of one sidecar, wired as the sidecar wires it: a ClusterClient over a Netty
 * channel to the router's port, its Routes, Lifecycle, a services supplier the test changes, and a
 * listener that records what it heard.
 */
final class ClusterSidecar implements AutoCloseable {

  record Drain(Duration deadline, String reason) {}

  /** A revoke heard, and whether the pipeline was still routed then (the new set not applied). */
  record Revoke(String pipeline, boolean drain, String reason, boolean stillRouted) {}

  final String id;
  final SidecarConfig config;
  final Routes routes;
  final Lifecycle lifecycle = new Lifecycle();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final AtomicReference<List<DiscoveredService>> services;
  final List<String> registeredWith = new CopyOnWriteArrayList<>();
  final List<Drain> drains = new CopyOnWriteArrayList<>();
  final List<Revoke> revokes = new CopyOnWriteArrayList<>();
  final ClusterClient client;
  private final ManagedChannel channel;
  private final ScheduledThreadPoolExecutor scheduler;

  ClusterSidecar(String id, int routerPort, int heartbeatSeconds, DiscoveredService... services) {
    this(
        id,
        routerPort,
        NettyChannelBuilder.forTarget("127.0.0.1:" + routerPort)
            .usePlaintext()
            .directExecutor()
            .disableRetry()
            .build(),
        heartbeatSeconds,
        services);
  }

  /** Over a given channel to the router (in-process, for a coordinator the test scripts). */
  ClusterSidecar(
      String id, ManagedChannel channel, int heartbeatSeconds, DiscoveredService... services) {
    this(id, 1, channel, heartbeatSeconds, services);
  }

  private ClusterSidecar(
      String id,
      int routerPort,
      ManagedChannel channel,
      int heartbeatSeconds,
      DiscoveredService... services) {
    this.id = id;
    this.config =
        SidecarConfig.fromEnv(
            Map.of(
                "SIDECAR_ID",
                id,
                "POD_NAME",
                "pod-" + id,
                "NAMESPACE",
                "default",
                "POD_IP",
                "10.0.0." + (Math.abs(id.hashCode()) % 250 + 1),
                "CLUSTER_ENDPOINT",
                "127.0.0.1:" + routerPort,
                "GRPC_PORT",
                "9191",
                "HEARTBEAT_INTERVAL_SECS",
                String.valueOf(heartbeatSeconds)));
    this.routes = new Routes(id);
    this.services = new AtomicReference<>(List.of(services));
    routes.services(local(List.of(services)));
    this.channel = channel;
    this.scheduler =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "test-sidecar-timer-" + id);
              thread.setDaemon(true);
              return thread;
            });
    scheduler.setRemoveOnCancelPolicy(true);
    this.client =
        new ClusterClient(
            config,
            channel,
            routes,
            lifecycle,
            this.services::get,
            () -> SidecarLoad.newBuilder().setInFlightBatches(3).setInFlightBytes(4096).build(),
            scheduler,
            new SidecarMetrics(meters),
            new ClusterClient.Listener() {
              @Override
              public void registered(String routerInstanceId) {
                registeredWith.add(routerInstanceId);
              }

              @Override
              public void pipelineRevoked(String pipeline, boolean drain, String reason) {
                revokes.add(
                    new Revoke(
                        pipeline, drain, reason, routes.table().pipeline(pipeline).isPresent()));
              }

              @Override
              public void drainRequested(Duration deadline, String reason) {
                drains.add(new Drain(deadline, reason));
              }
            },
            new SplittableRandom(42));
  }

  ClusterSidecar start() {
    client.start();
    return this;
  }

  /** What discovery would report now; the client reads it at its next register or heartbeat. */
  void discovered(DiscoveredService... found) {
    services.set(List.of(found));
    routes.services(local(List.of(found)));
  }

  double registrations(String result) {
    return meters.counter("conveyor_sidecar_registrations", "result", result).count();
  }

  double heartbeats(String result) {
    return meters.counter("conveyor_sidecar_heartbeats", "result", result).count();
  }

  @Override
  public void close() {
    client.close();
    channel.shutdownNow();
    scheduler.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static DiscoveredService transform(String name) {
    return service(
        name, ServiceType.SERVICE_TYPE_TRANSFORM, "conveyor.etl.v1.TransformService", 50052);
  }

  static DiscoveredService sink(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SINK, "conveyor.etl.v1.SinkService", 50053);
  }

  static DiscoveredService source(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SOURCE, "conveyor.etl.v1.SourceService", 50051);
  }

  private static DiscoveredService service(
      String name, ServiceType type, String grpcService, int port) {
    return DiscoveredService.newBuilder()
        .setDescription(ServiceDescriptor.newBuilder().setName(name).setType(type))
        .setGrpcService(grpcService)
        .setEndpoint("127.0.0.1:" + port)
        .setHealth(ServiceHealth.SERVICE_HEALTH_SERVING)
        .build();
  }

  private static List<LocalService> local(List<DiscoveredService> found) {
    return found.stream()
        .map(
            s ->
                new LocalService(
                    s.getDescription().getName(), s.getDescription().getType(), s.getEndpoint(), 0))
        .toList();
  }
}

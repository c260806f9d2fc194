package io.conveyor.sidecar;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.sidecar.cluster.ClusterClient;
import io.conveyor.sidecar.cluster.ProcessMemory;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.ChannelPool;
import io.conveyor.sidecar.dataplane.DataPlane;
import io.conveyor.sidecar.dataplane.GrpcStageClient;
import io.conveyor.sidecar.dataplane.InFlight;
import io.conveyor.sidecar.dataplane.Lifecycle;
import io.conveyor.sidecar.dataplane.PipelineExecutor;
import io.conveyor.sidecar.discovery.DiscoveryLoop;
import io.conveyor.sidecar.discovery.PortProber;
import io.conveyor.sidecar.discovery.PortScanner;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.EndpointHealth;
import io.conveyor.sidecar.routing.LocalService;
import io.conveyor.sidecar.routing.Routes;
import io.conveyor.sidecar.routing.TargetSelector;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running sidecar: its servers, discovery, cluster client and data plane, wired together, and
 * its orderly shutdown.
 *
 * <p>Start: serve the data plane and health at once (overall health NOT_SERVING, {@code liveness}
 * SERVING), discover the pod's services, then register and route. Stop: refuse new batches, finish
 * or fail in-flight ones within the grace period, deregister, stop.
 */
public final class Sidecar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

  /** Health service name that answers SERVING as soon as the process is up (startup/liveness). */
  public static final String LIVENESS = "liveness";

  private final SidecarConfig config;
  private final PrometheusMeterRegistry meters;
  private final Transport transport;
  private final ScheduledExecutorService scheduler;
  private final ScheduledExecutorService discoveryScheduler;
  private final ExecutorService probePool;
  private final ChannelPool channels;
  private final ManagedChannel routerChannel;
  private final Server server;
  private final HealthStatusManager health;
  private final AdminHttpServer admin;
  private final DiscoveryLoop discovery;
  private final ClusterClient cluster;
  private final DataPlane dataPlane;
  private final InFlight inFlight;
  private final PipelineExecutor executor;
  private final Lifecycle lifecycle;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile Runnable onDrainRequested = () -> {};

  private Sidecar(SidecarConfig config) {
    this.config = config;
    this.meters = MetricsRegistries.prometheus("conveyor-sidecar");
    SidecarMetrics metrics = new SidecarMetrics(meters);
    this.transport = new Transport(2);
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.numbered("sidecar-timer"));
    timer.setRemoveOnCancelPolicy(true);
    this.scheduler = timer;
    this.discoveryScheduler =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.numbered("sidecar-discovery"));
    // Probe threads exist only while a scan runs: between scans they would only hold memory.
    ThreadPoolExecutor probes =
        new ThreadPoolExecutor(
            8,
            8,
            5,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            DaemonThreads.numbered("sidecar-probe"));
    probes.allowCoreThreadTimeOut(true);
    this.probePool = probes;

    this.lifecycle = new Lifecycle();
    this.inFlight = new InFlight(config.maxInFlightBytes());
    Routes routes = new Routes(config.sidecarId());
    int maxResponse = (int) Math.min(Integer.MAX_VALUE, 4L * config.maxMessageBytes());
    this.channels = new ChannelPool(endpoint -> transport.channel(endpoint, maxResponse), 256);
    EndpointHealth endpointHealth =
        new EndpointHealth(System::nanoTime, Duration.ofSeconds(1), Duration.ofSeconds(30));
    this.executor =
        new PipelineExecutor(
            config.sidecarId(),
            new GrpcStageClient(channels),
            new TargetSelector(endpointHealth),
            scheduler,
            metrics,
            config.maxMessageBytes());

    PortProber prober =
        new PortProber(
            config.discoveryHost(),
            config.probeTimeout().toMillis(),
            endpoint -> transport.channel(endpoint, 1 << 20));
    Set<Integer> ownPorts = Set.of(config.grpcPort(), config.metricsPort());
    // With the pod's socket table, a listener's answer settles over one discovery interval and
    // is re-checked every six.
    Optional<PortScanner.SocketTable> socketTable =
        isLoopback(config.discoveryHost())
            ? Optional.of(
                PortScanner.SocketTable.ofThisProcess(
                    config.discoveryInterval(), config.discoveryInterval().multipliedBy(6)))
            : Optional.empty();
    PortScanner scanner =
        new PortScanner(
            prober,
            config.discoveryStartPort(),
            config.discoveryEndPort(),
            ownPorts,
            probePool,
            socketTable);
    // Set below; discovery reports to the cluster client, which needs discovery's results.
    ClusterClient[] clusterRef = new ClusterClient[1];
    this.discovery =
        new DiscoveryLoop(
            scanner,
            config.discoveryInterval(),
            discoveryScheduler,
            found -> {
              routes.services(localServices(found));
              if (clusterRef[0] != null) {
                clusterRef[0].heartbeatNow();
              }
            },
            metrics);
    this.dataPlane =
        new DataPlane(
            config, routes, executor, inFlight, lifecycle, metrics, discovery::requestScan);

    this.health = new HealthStatusManager();
    NettyServerBuilder builder =
        transport
            .server(new InetSocketAddress(config.bindAddress(), config.grpcPort()))
            // Every handler of the sidecar is non-blocking (it starts asynchronous calls and
            // returns), so calls run on the I/O threads: no hand-off per message.
            .directExecutor()
            .maxInboundMessageSize(DataPlane.transportMessageLimit(config.maxMessageBytes()))
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .addService(dataPlane.service());
    this.health.setStatus(LIVENESS, ServingStatus.SERVING);
    this.health.setStatus("", ServingStatus.NOT_SERVING);
    this.health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    builder.addService(health.getHealthService());
    builder.addService(io.grpc.protobuf.services.ProtoReflectionServiceV1.newInstance());
    try {
      this.server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve the data plane on "
              + config.bindAddress()
              + ":"
              + config.grpcPort()
              + " (GRPC_PORT)",
          e);
    }

    this.routerChannel = transport.channel(config.clusterEndpoint().toString(), 4 << 20);
    this.cluster =
        new ClusterClient(
            config,
            routerChannel,
            routes,
            lifecycle,
            discovery::current,
            this::load,
            scheduler,
            metrics,
            new ClusterClient.Listener() {
              @Override
              public void registered(String routerInstanceId) {
                if (!lifecycle.isDraining()) {
                  health.setStatus("", ServingStatus.SERVING);
                  health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.SERVING);
                }
              }

              @Override
              public void pipelineRevoked(String pipeline, boolean drain, String reason) {
                dataPlane.revoke(pipeline, drain, reason);
              }

              @Override
              public void drainRequested(Duration deadline, String reason) {
                log.info("the router asked this sidecar to drain: {}", reason);
                onDrainRequested.run();
              }
            },
            new SplittableRandom());
    clusterRef[0] = cluster;

    this.admin =
        AdminHttpServer.builder(new InetSocketAddress(config.bindAddress(), config.metricsPort()))
            .metrics(meters)
            .readiness(
                () ->
                    cluster.hasRegistered() && !lifecycle.isDraining()
                        ? AdminHttpServer.Check.ok(
                            "registered; assignment version " + cluster.appliedVersion())
                        : AdminHttpServer.Check.failing(
                            lifecycle.isDraining()
                                ? "draining"
                                : "not registered with " + config.clusterEndpoint()))
            .start();
    registerGauges();
  }

  /** Starts a sidecar: serves at once, registers once the first discovery scan is done. */
  public static Sidecar start(SidecarConfig config) {
    Sidecar sidecar = new Sidecar(config);
    sidecar.discovery.start();
    sidecar
        .discovery
        .firstScan()
        .orTimeout(config.probeTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS)
        .whenComplete((ignored, error) -> sidecar.cluster.start());
    log.info(
        "conveyor-sidecar {} of pod {}/{} serving on {}:{} (advertised as {}), metrics on :{}, "
            + "discovering {}:{}-{}, router {}",
        config.sidecarId(),
        config.namespace(),
        config.podName(),
        config.bindAddress(),
        sidecar.server.getPort(),
        config.dataPlaneEndpoint(),
        sidecar.admin.port(),
        config.discoveryHost(),
        config.discoveryStartPort(),
        config.discoveryEndPort(),
        config.clusterEndpoint());
    return sidecar;
  }

  /** What to run when the router asks for a drain (the main exits the process after). */
  public void onDrainRequested(Runnable action) {
    this.onDrainRequested = action;
  }

  public int grpcPort() {
    return server.getPort();
  }

  public int metricsPort() {
    return admin.port();
  }

  public boolean isRegistered() {
    return cluster.isRegistered();
  }

  /**
   * The orderly stop: refuse new batches and tell the router (so that other sidecars stop sending
   * here), finish or fail in-flight batches within the grace period, deregister, stop serving.
   * Idempotent; later callers wait for the first to finish.
   */
  public void shutdown(String reason) {
    if (!stopping.compareAndSet(false, true)) {
      awaitStopped();
      return;
    }
    long started = System.nanoTime();
    log.info("draining ({}): refusing new batches, {} in flight", reason, inFlight.batches());
    lifecycle.draining();
    health.setStatus("", ServingStatus.NOT_SERVING);
    health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    cluster.heartbeatNow();
    boolean idle;
    try {
      idle = inFlight.awaitIdle(config.shutdownGrace());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      idle = false;
    }
    if (!idle) {
      log.warn(
          "{} batch(es) still in flight after {} s; their sources will re-send them",
          inFlight.batches(),
          config.shutdownGrace().toSeconds());
    }
    dataPlane.closePushStreams();
    cluster.deregister(reason, Duration.ofSeconds(2));
    close();
    log.info("stopped in {} ms", (System.nanoTime() - started) / 1_000_000);
  }

  /** Blocks until the sidecar stopped. */
  public void awaitStopped() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops everything at once, without draining. */
  @Override
  public void close() {
    cluster.close();
    discovery.close();
    server.shutdownNow();
    try {
      server.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    admin.close();
    channels.close();
    GrpcServers.shutdown(routerChannel, Duration.ofMillis(500));
    scheduler.shutdownNow();
    discoveryScheduler.shutdownNow();
    probePool.shutdownNow();
    transport.close();
    meters.close();
    stopped.countDown();
  }

  private SidecarLoad load() {
    Runtime runtime = Runtime.getRuntime();
    return SidecarLoad.newBuilder()
        .setInFlightBatches(inFlight.batches())
        .setInFlightBytes(inFlight.bytes())
        .setInFlightBytesLimit(inFlight.limitBytes())
        .setQueueDepth(executor.waitingRetries())
        .setHeapUsedBytes(runtime.totalMemory() - runtime.freeMemory())
        .setHeapMaxBytes(runtime.maxMemory())
        .setRssBytes(ProcessMemory.rssBytes())
        .setPushStreams(dataPlane.pushStreamCount())
        .build();
  }

  private void registerGauges() {
    Gauge.builder("conveyor_sidecar_inflight_bytes", inFlight, InFlight::bytes).register(meters);
    Gauge.builder("conveyor_sidecar_inflight_batches", inFlight, InFlight::batches)
        .register(meters);
    Gauge.builder("conveyor_sidecar_waiting_retries", executor, PipelineExecutor::waitingRetries)
        .register(meters);
    Gauge.builder("conveyor_sidecar_push_streams", dataPlane, DataPlane::pushStreamCount)
        .register(meters);
    Gauge.builder("conveyor_sidecar_discovered_services", discovery, d -> d.current().size())
        .register(meters);
    Gauge.builder("conveyor_sidecar_registered", cluster, c -> c.isRegistered() ? 1 : 0)
        .register(meters);
    Gauge.builder("conveyor_sidecar_channels", channels, ChannelPool::size).register(meters);
  }

  static List<LocalService> localServices(List<DiscoveredService> found) {
    return found.stream()
        .filter(s -> s.getHealth() != ServiceHealth.SERVICE_HEALTH_NOT_SERVING)
        .map(
            s ->
                new LocalService(
                    s.getDescription().getName(),
                    s.getDescription().getType(),
                    s.getEndpoint(),
                    s.getDescription().getMaxBatchSize()))
        .toList();
  }

  /**
   * The pod's socket table describes what discovery reaches only when it probes the pod's own
   * loopback (the default), not some other host.
   */
  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }
}

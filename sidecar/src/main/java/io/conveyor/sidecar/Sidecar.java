package io.conveyor.sidecar;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.CallerIdentity;
import io.conveyor.sidecar.cluster.ClusterClient;
import io.conveyor.sidecar.cluster.ProcessMemory;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.ChannelPool;
import io.conveyor.sidecar.dataplane.DataPlane;
import io.conveyor.sidecar.dataplane.GrpcStageClient;
import io.conveyor.sidecar.dataplane.InFlight;
import io.conveyor.sidecar.dataplane.Lifecycle;
import io.conveyor.sidecar.dataplane.PeerAccess;
import io.conveyor.sidecar.dataplane.PipelineExecutor;
import io.conveyor.sidecar.discovery.DiscoveryLoop;
import io.conveyor.sidecar.discovery.PortProber;
import io.conveyor.sidecar.discovery.PortScanner;
import io.conveyor.sidecar.identity.CertificateEnroller;
import io.conveyor.sidecar.identity.CredentialFile;
import io.conveyor.sidecar.identity.EnrolmentMetrics;
import io.conveyor.sidecar.identity.SidecarTls;
import io.conveyor.sidecar.identity.SigningRequests;
import io.conveyor.sidecar.identity.TokenServiceAccount;
import io.conveyor.sidecar.identity.WorkloadCertificate;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.EndpointHealth;
import io.conveyor.sidecar.routing.LocalService;
import io.conveyor.sidecar.routing.Routes;
import io.conveyor.sidecar.routing.TargetSelector;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sidecar: its servers, discovery, cluster client and data plane, wired together, and its
 * orderly shutdown.
 *
 * <p>As in grpc-java's examples: the constructor wires the parts and starts nothing (no thread, no
 * socket); {@link #start()} serves the data plane and health at once (overall health NOT_SERVING,
 * {@code liveness} SERVING), then the admin HTTP server, then discovers the pod's services and
 * registers once the first scan is done; {@link #close()} stops whatever was started. A start that
 * fails half-way closes what it had started before it throws. The orderly stop is {@link
 * #shutdown(String)}: refuse new batches, finish or fail in-flight ones within the grace period,
 * deregister, close.
 */
public final class Sidecar implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);
  private static final int IO_THREADS = 1;

  /**
   * When the JVM's own meters are bound at the latest if the sidecar has not registered by then.
   */
  static final Duration JVM_METERS_AT_THE_LATEST = Duration.ofSeconds(2);

  /** Health service name that answers SERVING as soon as the process is up (startup/liveness). */
  public static final String LIVENESS = "liveness";

  /** Where GRPC_PORT listens: the pod's own processes only. */
  static final String LOOPBACK = "127.0.0.1";

  private final SidecarConfig config;
  private final PrometheusMeterRegistry meters;
  private final Transport transport;
  private final ScheduledExecutorService scheduler;
  private final ScheduledExecutorService discoveryScheduler;
  private final ExecutorService probePool;
  private final ChannelPool channels;
  private final ManagedChannel routerChannel;
  private final Optional<ManagedChannel> enrolmentChannel;
  private final Server localServer;
  private final Server peerServer;
  private final Optional<SidecarTls> tls;
  private final HealthStatusManager health;
  private final DiscoveryLoop discovery;
  private final ClusterClient cluster;
  private final DataPlane dataPlane;
  private final InFlight inFlight;
  private final PipelineExecutor executor;
  private final Lifecycle lifecycle;
  private final Optional<CertificateEnroller> enroller;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean jvmMetersBound = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile AdminHttpServer admin;
  private volatile Runnable onDrainRequested = () -> {};

  /** Wires a sidecar; starts nothing. */
  public Sidecar(SidecarConfig config) {
    this.config = config;
    // First, so that it runs while the rest is wired: the first enrolment's key and CSR, which
    // are otherwise on the path to readiness (SigningRequests).
    Optional<Enrolment> enrolment = enrolment(config);
    enrolment.ifPresent(e -> e.requests().prepareAhead());
    // The JVM's own meters come later (bindJvmMetersOnce): the sidecar's own are bound here.
    this.meters = MetricsRegistries.withoutJvmMeters("conveyor-sidecar");
    this.tls = openTls(config, meters);
    SidecarMetrics metrics = new SidecarMetrics(meters);
    // Netty starts an event loop's thread on its first task, executors theirs on their first task.
    // One I/O thread: every call of the data plane runs on it, so a batch crosses no thread on its
    // way through the sidecar. Measured against two (./conveyor bench, four alternating pairs):
    // ratio to direct median 0.67 against 0.655, within the noise (sidecar_rps 91.9k against 78.0k,
    // but the direct baseline moved as much), sidecar CPU per record about 5-10% lower relative to
    // the transform's, RSS 108-111 against 109-116 MiB. One thread caps a sidecar's I/O at one
    // core: both sidecars of the bench together used about 0.75 of one (774 ms per 100k records
    // at 96k records/s, README).
    this.transport = new Transport(IO_THREADS);
    this.scheduler = newTimer();
    this.discoveryScheduler =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.numbered("sidecar-discovery"));
    this.probePool = newProbePool();

    this.lifecycle = new Lifecycle();
    this.inFlight = new InFlight(config.maxInFlightBytes());
    Routes routes = new Routes(config.sidecarId());
    int maxResponse = (int) Math.min(Integer.MAX_VALUE, 4L * config.maxMessageBytes());
    this.channels =
        new ChannelPool(
            endpoint -> transport.channel(endpoint, maxResponse),
            (endpoint, identity) ->
                transport.channel(endpoint, maxResponse, tls.map(t -> t.peerClient(identity))),
            256);
    EndpointHealth endpointHealth =
        new EndpointHealth(System::nanoTime, Duration.ofSeconds(1), Duration.ofSeconds(30));
    this.executor =
        new PipelineExecutor(
            config.sidecarId(),
            new GrpcStageClient(channels),
            new TargetSelector(endpointHealth),
            routes,
            scheduler,
            metrics,
            config.maxMessageBytes());

    // Set below; discovery reports to the cluster client, which needs discovery's results.
    ClusterClient[] clusterRef = new ClusterClient[1];
    this.discovery =
        new DiscoveryLoop(
            portScanner(config, transport, probePool),
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
            config,
            routes,
            executor,
            inFlight,
            lifecycle,
            metrics,
            discovery::requestScan,
            tls.map(SidecarTls::peerAccess).orElseGet(PeerAccess::open));

    this.health = new HealthStatusManager();
    this.health.setStatus(LIVENESS, ServingStatus.SERVING);
    this.health.setStatus("", ServingStatus.NOT_SERVING);
    this.health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    // GRPC_PORT: the pod's own processes, on loopback only, plaintext as with Istio's app-proxy
    // hop. PEER_PORT: other sidecars, on the network, mutual TLS.
    this.localServer =
        transport
            .server(new InetSocketAddress(LOOPBACK, config.grpcPort()))
            // Every handler of the sidecar is non-blocking (it starts asynchronous calls and
            // returns), so calls run on the I/O threads: no hand-off per message. Both listeners.
            .directExecutor()
            .maxInboundMessageSize(DataPlane.transportMessageLimit(config.maxMessageBytes()))
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .addService(dataPlane.localService())
            .addService(health.getHealthService())
            .addService(io.grpc.protobuf.services.ProtoReflectionServiceV1.newInstance())
            .build();
    NettyServerBuilder peer =
        transport
            .server(new InetSocketAddress(config.bindAddress(), config.peerPort()))
            .directExecutor()
            .maxInboundMessageSize(DataPlane.transportMessageLimit(config.maxMessageBytes()))
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            // A connection re-handshakes at least hourly: the peer's certificate is checked again,
            // so one that expired or whose pod is gone does not outlive it for long.
            .maxConnectionAge(1, TimeUnit.HOURS)
            .maxConnectionAgeGrace(1, TimeUnit.MINUTES)
            .addService(
                ServerInterceptors.intercept(dataPlane.peerService(), new CallerIdentity()));
    tls.ifPresent(t -> peer.sslContext(t.peerServer()));
    this.peerServer = peer.build();

    // The router: over mutual TLS, its certificate checked for the control plane's account.
    this.routerChannel =
        transport.channel(
            config.clusterEndpoint().toString(), 4 << 20, tls.map(SidecarTls::routerClient));
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
            new ClusterEvents(),
            new SplittableRandom());
    clusterRef[0] = cluster;
    EnrolmentMetrics enrolmentMetrics = new EnrolmentMetrics(meters);
    // Enrolment has no client certificate to show yet: a connection of its own, so the router's
    // channel handshakes only once there is one.
    this.enrolmentChannel =
        tls.map(
            t ->
                transport.channel(
                    config.clusterEndpoint().toString(),
                    1 << 20,
                    Optional.of(t.enrolmentClient())));
    this.enroller =
        enrolment.map(
            e -> enroller(e, enrolmentChannel.orElse(routerChannel), scheduler, enrolmentMetrics));
    enrolmentMetrics.expiryGauge(
        () -> enroller.map(CertificateEnroller::secondsToExpiry).orElse(-1.0));
    registerGauges();
  }

  /**
   * Wires and starts a sidecar: serves at once, registers once the first discovery scan is done.
   */
  public static Sidecar start(SidecarConfig config) {
    return new Sidecar(config).start();
  }

  /**
   * Serves the data plane, health and the admin HTTP server, and starts discovery; registers once
   * the first scan is done. Once only.
   *
   * @return this sidecar
   * @throws SidecarStartException when a part cannot start (e.g. its port is taken); every part
   *     started before it is closed by then
   */
  // Synchronized with closeOnce(): a close (SIGTERM) during start waits for it, then closes all
  // that was started, instead of missing a part that start() assigned meanwhile.
  public synchronized Sidecar start() {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("a sidecar starts once, and not after close()");
    }
    try {
      serveDataPlane();
      serveAdmin();
      enrolThenRegister();
      scheduler.schedule(
          this::bindJvmMetersOnce, JVM_METERS_AT_THE_LATEST.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      SidecarStartException failure =
          e instanceof SidecarStartException known
              ? known
              : new SidecarStartException("cannot start the sidecar: " + e, e);
      closeOnce().forEach(failure::addSuppressed);
      throw failure;
    }
    log.info(
        "conveyor-sidecar {} of pod {}/{}: local sources on {}:{}, peers on {}:{} ({}, advertised"
            + " as {}), metrics on :{}, discovering {}:{}-{}, router {}",
        config.sidecarId(),
        config.namespace(),
        config.podName(),
        LOOPBACK,
        localServer.getPort(),
        config.bindAddress(),
        peerServer.getPort(),
        tls.map(t -> "mutual TLS, " + t.provider()).orElse("plaintext"),
        config.dataPlaneEndpoint(),
        admin.port(),
        config.discoveryHost(),
        config.discoveryStartPort(),
        config.discoveryEndPort(),
        config.clusterEndpoint());
    return this;
  }

  private void serveDataPlane() {
    try {
      localServer.start();
    } catch (IOException e) {
      throw cannotServe("local sources", "GRPC_PORT", LOOPBACK, config.grpcPort(), e);
    }
    try {
      peerServer.start();
    } catch (IOException e) {
      throw cannotServe("other sidecars", "PEER_PORT", config.bindAddress(), config.peerPort(), e);
    }
  }

  private void serveAdmin() {
    try {
      admin =
          AdminHttpServer.builder(new InetSocketAddress(config.bindAddress(), config.metricsPort()))
              .metrics(meters)
              .readiness(this::readiness)
              .start();
    } catch (UncheckedIOException e) {
      throw cannotServe(
          "metrics and health", "METRICS_PORT", config.bindAddress(), config.metricsPort(), e);
    }
  }

  /**
   * Discovers the pod's services and, under mutual TLS, enrols, both at once: discovery probes the
   * pod's own loopback ports in plaintext and needs no certificate, so the first registration waits
   * for whichever of the two finishes last rather than for their sum. Under mutual TLS the sidecar
   * registers only with a certificate to show (the router refuses a sidecar without one); until
   * then it is not ready and the peer port refuses every handshake. Renewals go to the live TLS
   * contexts without a restart. Without mutual TLS: register once the first scan is done (and enrol
   * anyway if given a credential, as before).
   */
  private void enrolThenRegister() {
    CompletableFuture<Void> scanned = firstScan();
    if (tls.isEmpty()) {
      enroller.ifPresentOrElse(
          CertificateEnroller::start,
          () ->
              log.info(
                  "no enrolment credential (SERVICE_ACCOUNT_TOKEN_FILE or BOOTSTRAP_TOKEN_FILE):"
                      + " running without a workload certificate"));
      scanned.thenRun(this::register);
      return;
    }
    SidecarTls secured = tls.get();
    CertificateEnroller enrolling =
        enroller.orElseThrow(() -> new IllegalStateException("mutual TLS without a credential"));
    CompletableFuture<Void> enrolled = new CompletableFuture<>();
    enrolling.onCertificate(
        certificate -> {
          secured.use(certificate);
          if (enrolled.complete(null)) { // the first certificate; later ones change nothing here
            // The router's connection shakes hands now, with the certificate, while discovery
            // finishes, instead of when registration needs it. ./conveyor bench startup, medians
            // of 13 starts: registration 43 ms after both instead of 59, but the handshake shares
            // the I/O thread with discovery's probes, which took 283 ms instead of 261.
            routerChannel.getState(true);
          }
        });
    // A replaced CA (a new root in the bundle file) is acted on at once, not at half-life.
    enrolling.checkTrustAgainst(secured.trustBundle());
    enrolling.start();
    enrolled
        .thenCombine(scanned, (certificate, scan) -> scan)
        .thenRun(
            () -> {
              log.info(
                  "holding a workload certificate: registering with {}", config.clusterEndpoint());
              register();
            });
  }

  /**
   * Starts discovery; completes when its first scan is done, or has taken too long (the sidecar
   * then registers with what it has, and the next scan's heartbeat tells the router the rest).
   */
  private CompletableFuture<Void> firstScan() {
    discovery.start();
    return discovery
        .firstScan()
        .orTimeout(config.probeTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS)
        .handle((ignored, error) -> null);
  }

  private void register() {
    if (!closed.get()) {
      cluster.start();
    }
  }

  private static Optional<SidecarTls> openTls(
      SidecarConfig config, PrometheusMeterRegistry meters) {
    if (config.securityMode() == SidecarConfig.SecurityMode.PLAINTEXT) {
      log.warn(
          "SECURITY_MODE=plaintext: no TLS and no identities; any process that reaches PEER_PORT"
              + " may forward batches here. Use it only where the network is yours alone.");
      return Optional.empty();
    }
    if (config.trustBundleFile().isEmpty()) {
      throw new SidecarStartException(
          "SECURITY_MODE=mtls needs TRUST_BUNDLE_FILE (the Conveyor CA's certificate) to verify"
              + " the router and other sidecars; set SECURITY_MODE=plaintext to run without TLS",
          null);
    }
    if (config.serviceAccountTokenFile().isEmpty() && config.bootstrapTokenFile().isEmpty()) {
      throw new SidecarStartException(
          "SECURITY_MODE=mtls needs SERVICE_ACCOUNT_TOKEN_FILE (in a cluster) or"
              + " BOOTSTRAP_TOKEN_FILE (standalone) to enrol for a certificate; set"
              + " SECURITY_MODE=plaintext to run without TLS",
          null);
    }
    return Optional.of(SidecarTls.open(config, meters, Clock.systemUTC()));
  }

  /** What the sidecar enrols with: a credential, and the key pairs and CSRs it sends with it. */
  private record Enrolment(CredentialFile credential, SigningRequests requests) {}

  /**
   * The pod's projected ServiceAccount token, else a standalone router's bootstrap token; none
   * without either. The CSRs name the pod and the token's service account ({@code default} for a
   * bootstrap token, which proves no account).
   */
  private static Optional<Enrolment> enrolment(SidecarConfig config) {
    Optional<CredentialFile> credential =
        config
            .serviceAccountTokenFile()
            .map(path -> new CredentialFile(path, CredentialFile.Kind.SERVICE_ACCOUNT_TOKEN))
            .or(
                () ->
                    config
                        .bootstrapTokenFile()
                        .map(
                            path -> new CredentialFile(path, CredentialFile.Kind.BOOTSTRAP_TOKEN)));
    return credential.map(
        file ->
            new Enrolment(
                file,
                new SigningRequests(
                    WorkloadIdentity.of(config.namespace(), config.podName(), serviceAccount(file)),
                    new SecureRandom())));
  }

  private static CertificateEnroller enroller(
      Enrolment enrolment,
      ManagedChannel routerChannel,
      ScheduledExecutorService scheduler,
      EnrolmentMetrics metrics) {
    return new CertificateEnroller(
        enrolment.requests(),
        enrolment.credential(),
        routerChannel,
        scheduler,
        Clock.systemUTC(),
        new SplittableRandom(),
        metrics,
        CertificateEnroller.Settings.defaults());
  }

  /**
   * The service account the CSR names: from the ServiceAccount token's subject in a cluster, {@code
   * default} standalone (the bootstrap token proves no account).
   */
  private static String serviceAccount(CredentialFile file) {
    if (file.kind() != CredentialFile.Kind.SERVICE_ACCOUNT_TOKEN) {
      return "default";
    }
    try {
      return TokenServiceAccount.of(Files.readString(file.path())).orElse("default");
    } catch (IOException | RuntimeException e) {
      return "default";
    }
  }

  /** The workload certificate held now, if enrolled and not expired. */
  public Optional<WorkloadCertificate> certificate() {
    return enroller.flatMap(CertificateEnroller::current);
  }

  private SidecarStartException cannotServe(
      String what, String variable, String address, int port, Exception cause) {
    return new SidecarStartException(
        "cannot serve "
            + what
            + " on "
            + new HostPort(address, port)
            + " ("
            + variable
            + "="
            + port
            + "): "
            + rootMessage(cause),
        cause);
  }

  /** The innermost message: "Address already in use" rather than the wrappers' "failed to bind". */
  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage();
  }

  private AdminHttpServer.Check readiness() {
    if (lifecycle.isDraining()) {
      return AdminHttpServer.Check.failing("draining");
    }
    if (tls.isPresent() && !tls.get().hasCertificate()) {
      return AdminHttpServer.Check.failing(
          "no workload certificate yet: enrolling with " + config.clusterEndpoint());
    }
    return cluster.hasRegistered()
        ? AdminHttpServer.Check.ok("registered; assignment version " + cluster.appliedVersion())
        : AdminHttpServer.Check.failing("not registered with " + config.clusterEndpoint());
  }

  /** What the control plane tells this sidecar, acted on. Runs on the cluster client's context. */
  private final class ClusterEvents implements ClusterClient.Listener {
    @Override
    public void registered(String routerInstanceId) {
      // Under the health lock, as the drain's NOT_SERVING is: a registration answered while the
      // sidecar begins to drain must not mark it serving again.
      synchronized (health) {
        if (!lifecycle.isDraining()) {
          health.setStatus("", ServingStatus.SERVING);
          health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.SERVING);
        }
      }
      if (!jvmMetersBound.get()) {
        runOnTimer(Sidecar.this::bindJvmMetersOnce);
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
  }

  /** What to run when the router asks for a drain (the main exits the process after). */
  public void onDrainRequested(Runnable action) {
    this.onDrainRequested = action;
  }

  /** The loopback port the pod's own sources push on; after {@link #start()}. */
  public int grpcPort() {
    return localServer.getPort();
  }

  /** The port other sidecars forward batches to; after {@link #start()}. */
  public int peerPort() {
    return peerServer.getPort();
  }

  /** The port of metrics and health; after {@link #start()}. */
  public int metricsPort() {
    AdminHttpServer serving = admin;
    if (serving == null) {
      throw new IllegalStateException("the sidecar is not started");
    }
    return serving.port();
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
    long began = System.nanoTime();
    log.info("draining ({}): refusing new batches, {} in flight", reason, inFlight.batches());
    synchronized (health) {
      lifecycle.draining();
      health.setStatus("", ServingStatus.NOT_SERVING);
      health.setStatus(SidecarDataPlaneGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    }
    cluster.heartbeatNow();
    // A batch waiting for a stage nobody runs yet would hold the stop up until its deadline.
    int waits =
        executor.stopWaiting(
            "sidecar " + config.sidecarId() + " is draining (" + reason + "); send again");
    if (waits > 0) {
      log.info("failed {} chunk(s) waiting for a stage to get an instance", waits);
    }
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
    log.info("stopped in {} ms", (System.nanoTime() - began) / 1_000_000);
  }

  /** Blocks until the sidecar stopped. */
  public void awaitStopped() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops everything at once, without draining; whatever was started. Idempotent. */
  @Override
  public void close() {
    for (RuntimeException failure : closeOnce()) {
      log.warn("while closing the sidecar: {}", failure.toString());
    }
  }

  /** Closes every part, each whatever happens to the others; returns what failed. */
  private synchronized List<RuntimeException> closeOnce() {
    if (!closed.compareAndSet(false, true)) {
      return List.of();
    }
    List<RuntimeException> failures = new ArrayList<>();
    closing(failures, () -> enroller.ifPresent(CertificateEnroller::close));
    closing(failures, cluster::close);
    closing(failures, discovery::close);
    closing(
        failures,
        () -> executor.stopWaiting("sidecar " + config.sidecarId() + " is closing; send again"));
    closing(failures, this::stopServer);
    closing(
        failures,
        () -> {
          if (admin != null) {
            admin.close();
          }
        });
    closing(failures, channels::close);
    closing(failures, () -> GrpcServers.shutdown(routerChannel, Duration.ofMillis(500)));
    closing(
        failures,
        () -> enrolmentChannel.ifPresent(c -> GrpcServers.shutdown(c, Duration.ofMillis(500))));
    closing(failures, scheduler::shutdownNow);
    closing(failures, discoveryScheduler::shutdownNow);
    closing(failures, probePool::shutdownNow);
    closing(failures, transport::close);
    closing(failures, meters::close);
    stopped.countDown();
    return failures;
  }

  private static void closing(List<RuntimeException> failures, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      failures.add(e);
    }
  }

  private void stopServer() {
    localServer.shutdownNow();
    peerServer.shutdownNow();
    try {
      localServer.awaitTermination(2, TimeUnit.SECONDS);
      peerServer.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
    Gauge.builder("conveyor_sidecar_inflight_bytes", inFlight, InFlight::bytes)
        .description("Bytes of batches this sidecar holds in flight (limit: MAX_INFLIGHT_BYTES)")
        .register(meters);
    Gauge.builder("conveyor_sidecar_inflight_batches", inFlight, InFlight::batches)
        .description("Batches this sidecar holds in flight, not yet answered")
        .register(meters);
    Gauge.builder("conveyor_sidecar_waiting_retries", executor, PipelineExecutor::waitingRetries)
        .description("Retries waiting out their backoff (the queue depth reported to the router)")
        .register(meters);
    Gauge.builder("conveyor_sidecar_waiting_for_stage", executor, PipelineExecutor::waitingForStage)
        .description(
            "Chunks of batches waiting for a sidecar to run their next stage, until the batch"
                + " deadline")
        .register(meters);
    Gauge.builder("conveyor_sidecar_push_streams", dataPlane, DataPlane::pushStreamCount)
        .description("Open PushRecords streams from local sources")
        .register(meters);
    Gauge.builder("conveyor_sidecar_discovered_services", discovery, d -> d.current().size())
        .description("Conveyor services the last discovery scan found in this pod")
        .register(meters);
    Gauge.builder("conveyor_sidecar_registered", cluster, c -> c.isRegistered() ? 1 : 0)
        .description("1 while registered with the router, 0 while not (re-registering included)")
        .register(meters);
    Gauge.builder("conveyor_sidecar_channels", channels, ChannelPool::size)
        .description("Channels held to the pod's services and to other sidecars (at most 256)")
        .register(meters);
  }

  /**
   * Binds the JVM's memory, thread, class, CPU and uptime meters, once: after the first
   * registration, or {@link #JVM_METERS_AT_THE_LATEST} after the start. Not in the constructor:
   * they read the JVM's management beans, whose classes a start otherwise does not load, and
   * binding them there put about 40 ms on the way to ready ({@code BENCH_STARTUP_VARIANT_FLAGS}, 16
   * + 16 starts alternated: ready 1,113 against 1,153 ms) for meters nobody reads in a sidecar's
   * first second.
   */
  private void bindJvmMetersOnce() {
    if (jvmMetersBound.compareAndSet(false, true)) {
      try {
        MetricsRegistries.bindJvmMeters(meters);
      } catch (RuntimeException e) {
        // Not retried: what failed once (a management bean the JVM lacks) fails again. The
        // sidecar's own meters are unaffected. (A bind that races the close may register on a
        // closed registry: harmless, nothing scrapes it any more.)
        log.warn("the JVM's own meters are not exposed: {}", e.toString());
      }
    }
  }

  /** Runs {@code task} on the timer thread, unless the sidecar closed it meanwhile. */
  private void runOnTimer(Runnable task) {
    try {
      scheduler.execute(task);
    } catch (RejectedExecutionException closing) {
      // The sidecar is closing: nothing left to do.
    }
  }

  private static ScheduledExecutorService newTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.numbered("sidecar-timer"));
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /** Probe threads exist only while a scan runs: between scans they would only hold memory. */
  private static ExecutorService newProbePool() {
    ThreadPoolExecutor probes =
        new ThreadPoolExecutor(
            8,
            8,
            5,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            DaemonThreads.numbered("sidecar-probe"));
    probes.allowCoreThreadTimeOut(true);
    return probes;
  }

  private static PortScanner portScanner(
      SidecarConfig config, Transport transport, ExecutorService probePool) {
    PortProber prober =
        new PortProber(
            config.discoveryHost(),
            config.probeTimeout().toMillis(),
            endpoint -> transport.channel(endpoint, 1 << 20));
    // With the pod's socket table, a listener's answer settles over one discovery interval and
    // is re-checked every six.
    Optional<PortScanner.SocketTable> socketTable =
        isLoopback(config.discoveryHost())
            ? Optional.of(
                PortScanner.SocketTable.ofThisProcess(
                    config.discoveryInterval(), config.discoveryInterval().multipliedBy(6)))
            : Optional.empty();
    return new PortScanner(
        prober,
        config.discoveryStartPort(),
        config.discoveryEndPort(),
        Set.of(config.grpcPort(), config.metricsPort(), config.peerPort()),
        probePool,
        socketTable);
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

package io.conveyor.operator.leader;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.operator.KubernetesClients;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.operator.identity.CaSecret;
import io.conveyor.operator.identity.IssuedCertificates;
import io.conveyor.operator.identity.TokenReviewVerifier;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.conveyor.operator.reconciler.PipelineReconciler;
import io.conveyor.operator.reconciler.SidecarPodReconciler;
import io.conveyor.operator.reconciler.TrustBundlePublisher;
import io.conveyor.operator.router.PipelineBootstrap;
import io.conveyor.operator.router.RouterEventBridge;
import io.conveyor.operator.router.RouterWarmUp;
import io.conveyor.operator.status.SidecarStatusCalculator;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.grpc.CoordinatorAccess;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.router.identity.RouterTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.BindableService;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything this replica runs while it leads, built fresh for each term and thrown away at its
 * end: a new router core (so versions and registrations of an earlier term never leak into this
 * one), the CA loaded from its Secret, the reconcilers, and the router's gRPC server with the
 * CertificateService next to the coordinator.
 *
 * <p>Start order: pipelines are loaded from the API first, then the reconcilers start (caches in
 * sync, ConveyorSidecar objects of deleted pods swept), and only then does the router serve, so a
 * sidecar re-registering gets its full assignments at once. {@link #stopServing()} closes the gRPC
 * server at once and may be called from any thread at any time, also while {@link #start()} is
 * still running: the server is then never started.
 */
final class LeaderTerm {

  /** The trust domain the operator's CA issues under. */
  static final String TRUST_DOMAIN = WorkloadIdentity.DEFAULT_TRUST_DOMAIN;

  private static final Logger log = LoggerFactory.getLogger(LeaderTerm.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final Supplier<ServerBuilder<?>> serverBuilder;
  private final Consumer<String> giveUp;

  private final Object servingLock = new Object();
  private boolean leading = true;
  private RouterServer server;
  private volatile RouterCore core;
  private volatile Operator operator;
  private volatile CertificateAuthority authority;
  private volatile RouterTls tls;
  private volatile ScheduledExecutorService certificateTimer;

  /**
   * @param giveUp called with a reason when the term cannot go on (an informer died): the caller
   *     gives up the lease
   */
  LeaderTerm(
      KubernetesClient client,
      OperatorConfig config,
      OperatorMetrics metrics,
      Clock clock,
      Supplier<ServerBuilder<?>> serverBuilder,
      Consumer<String> giveUp) {
    this.client = client;
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.serverBuilder = serverBuilder;
    this.giveUp = giveUp;
  }

  /** Builds and starts the term; returns once the router serves (or the term was stopped). */
  void start() {
    RouterCore routerCore = new RouterCore(clock, config.router());
    RouterEventBridge bridge = new RouterEventBridge(routerCore);
    routerCore.addListener(bridge);
    RouterWarmUp warmUp = new RouterWarmUp(clock, config.routerWarmUp());
    this.core = routerCore;

    PipelineBootstrap.load(client, routerCore, config.namespaces());

    // The CA of every leader: loaded from (or first stored in) the Secret of the operator's
    // namespace. A malformed Secret fails the term here, before anything serves.
    CertificateAuthority ca =
        new CaSecret(client, config.leaseNamespace(), TRUST_DOMAIN, clock, new SecureRandom())
            .loadOrCreate();
    this.authority = ca;
    IssuedCertificates issued = new IssuedCertificates(config.router().maxSidecars());

    Operator op =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    // The fabric8 mock server has no server-side apply; production runs the same
                    // plain patches the tests exercise.
                    .withUseSSAToPatchPrimaryResource(false)
                    // Lets the cache of just-written objects keep our newer version when the
                    // informer delivers an older one (else a reconcile in between recomputes from
                    // the stale object and writes again). Non-numeric versions fall back safely.
                    .withParseResourceVersions(true)
                    .withConcurrentReconciliationThreads(config.reconcileThreads())
                    .withMetrics(metrics)
                    .withCacheSyncTimeout(Duration.ofMinutes(2))
                    .withStopOnInformerErrorDuringStartup(true)
                    .withInformerStoppedHandler(
                        (informer, error) -> {
                          if (error != null) {
                            giveUp.accept("an informer stopped: " + error.getMessage());
                          }
                        }));
    this.operator = op;
    SidecarPodReconciler pods =
        new SidecarPodReconciler(
            bridge,
            new SidecarStatusCalculator(config.heartbeatStatusRefresh()),
            warmUp,
            metrics,
            clock,
            issued,
            new TrustBundlePublisher(ca.rootPem(), metrics));
    op.register(pods, this::namespaces);
    op.register(new PipelineReconciler(bridge, warmUp, metrics, clock), this::namespaces);
    op.start();

    int swept = pods.sweepOrphans(client);
    if (swept > 0) {
      log.info("removed {} ConveyorSidecar objects whose pods are gone", swept);
    }

    synchronized (servingLock) {
      if (!leading) {
        log.info("leadership ended while the term was starting; not serving");
        return;
      }
      ServerBuilder<?> builder = serverBuilder.get();
      CoordinatorAccess access = CoordinatorAccess.open();
      if (config.mutualTls()) {
        RouterTls routerTls = startTls(ca, builder);
        tls = routerTls;
        access = routerTls.access();
      }
      server =
          RouterServer.startWithCallPools(
              builder,
              routerCore,
              metrics.registry(),
              RouterServer.DEFAULT_MIN_ASSIGN_INTERVAL,
              List.of(certificateService(ca, issued)),
              access);
      warmUp.servingFrom(clock.instant());
    }
    log.info(
        "leading: router serves SidecarCoordinator and CertificateService on port {} ({})",
        server.port(),
        tls == null ? "plaintext: SECURITY_MODE=plaintext" : "mutual TLS");
  }

  /**
   * The port's mutual TLS: the leader's own certificate from this term's CA, naming its pod in the
   * operator's namespace as {@link RouterTls#CONTROL_PLANE_SERVICE_ACCOUNT}, renewed on the term's
   * timer.
   */
  private RouterTls startTls(CertificateAuthority ca, ServerBuilder<?> builder) {
    if (!(builder instanceof NettyServerBuilder netty)) {
      throw new IllegalStateException(
          "SECURITY_MODE=mtls needs a Netty server for the router port, not "
              + builder.getClass().getSimpleName());
    }
    certificateTimer = DaemonThreads.scheduler("router-certificate");
    RouterTls routerTls =
        RouterTls.start(
            ca,
            new WorkloadIdentity(
                TRUST_DOMAIN,
                config.leaseNamespace(),
                config.identity(),
                RouterTls.CONTROL_PLANE_SERVICE_ACCOUNT),
            TlsProvider.preferred(),
            new DeniedCalls(metrics.registry(), "conveyor_router", System::nanoTime),
            certificateTimer,
            clock,
            new SecureRandom());
    netty.sslContext(routerTls.serverContext());
    return routerTls;
  }

  /**
   * The router's CertificateService over this term's CA, enrolling with TokenReview through a
   * client that does not retry for seconds, and recording what it issues per pod UID.
   */
  private BindableService certificateService(CertificateAuthority ca, IssuedCertificates issued) {
    CertificateIssuingService service =
        new CertificateIssuingService(
            new TokenReviewVerifier(KubernetesClients.forEnrolment(client), TRUST_DOMAIN, issued),
            new CsrValidator(),
            ca,
            TRUST_DOMAIN,
            metrics.registry());
    ServerServiceDefinition intercepted =
        ServerInterceptors.intercept(service, issued.interceptor());
    return () -> intercepted;
  }

  private <R extends io.fabric8.kubernetes.api.model.HasMetadata> void namespaces(
      ControllerConfigurationOverrider<R> overrider) {
    if (config.watchesAllNamespaces()) {
      overrider.watchingAllNamespaces();
    } else {
      overrider.settingNamespaces(config.namespaces());
    }
  }

  /** Stops serving at once; idempotent. Safe to call while {@link #start()} runs. */
  void stopServing() {
    RouterServer stopping;
    synchronized (servingLock) {
      leading = false;
      stopping = server;
      server = null;
    }
    ScheduledExecutorService timer = certificateTimer;
    if (timer != null) {
      timer.shutdownNow();
    }
    if (stopping != null) {
      // Cancels open calls and watch streams (sidecars fail over at once) and unregisters the
      // router's gauges, so the next term's server reports its own core.
      stopping.close();
      log.info("stopped serving SidecarCoordinator");
    }
  }

  /** Stops serving, then stops the reconcilers. */
  void close() {
    stopServing();
    Operator op = operator;
    if (op != null) {
      try {
        op.stop();
      } catch (RuntimeException e) {
        log.warn("stopping the reconcilers failed", e);
      }
    }
    metrics.sidecarPhases().clear();
    metrics.pipelinePhases().clear();
  }

  boolean serving() {
    synchronized (servingLock) {
      return server != null;
    }
  }

  Optional<Integer> routerPort() {
    synchronized (servingLock) {
      return server == null ? Optional.empty() : Optional.of(server.port());
    }
  }

  Optional<RouterCore> core() {
    return Optional.ofNullable(core);
  }

  /** This term's CA, once loaded. */
  Optional<CertificateAuthority> certificateAuthority() {
    return Optional.ofNullable(authority);
  }
}

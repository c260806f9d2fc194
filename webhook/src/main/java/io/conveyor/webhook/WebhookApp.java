package io.conveyor.webhook;

import com.sun.net.httpserver.HttpHandler;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.http.AdminHttpServer.Check;
import io.conveyor.webhook.admission.AdmissionHttpHandler;
import io.conveyor.webhook.admission.AdmissionMetrics;
import io.conveyor.webhook.admission.AdmissionReviewCodec;
import io.conveyor.webhook.admission.AdmissionWarmup;
import io.conveyor.webhook.admission.PodAdmissionHandler;
import io.conveyor.webhook.config.WebhookConfig;
import io.conveyor.webhook.mutation.PodMutator;
import io.conveyor.webhook.server.HttpServerLimits;
import io.conveyor.webhook.server.TlsWarmup;
import io.conveyor.webhook.server.WebhookHttpsServer;
import io.conveyor.webhook.tls.CaBundleFile;
import io.conveyor.webhook.tls.CaBundlePublisher;
import io.conveyor.webhook.tls.CertificateIssuer;
import io.conveyor.webhook.tls.CertificateManager;
import io.conveyor.webhook.tls.CertificateStore;
import io.conveyor.webhook.tls.InMemoryCertificateStore;
import io.conveyor.webhook.tls.ReloadableKeyManager;
import io.conveyor.webhook.tls.SecretCertificateStore;
import io.conveyor.webhook.tls.ServerTls;
import io.conveyor.webhook.tls.TlsSettings;
import io.conveyor.webhook.tls.WebhookConfigurationCaBundlePublisher;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running webhook: the HTTPS admission server, the admin server (metrics, health, readiness)
 * and the certificate manager, wired from a {@link WebhookConfig}. Tests and the benchmark start it
 * in-process; {@link WebhookMain} starts it for real.
 */
public final class WebhookApp implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WebhookApp.class);

  private final WebhookConfig config;
  private final CertificateManager certificates;
  private final ReloadableKeyManager keyManager;
  private final WebhookHttpsServer https;
  private final AdminHttpServer admin;
  private final PrometheusMeterRegistry registry;
  private volatile boolean draining;
  private volatile boolean warmedUp;

  static final Duration WARMUP_BUDGET = Duration.ofSeconds(5);

  private WebhookApp(
      WebhookConfig config,
      CertificateManager certificates,
      ReloadableKeyManager keyManager,
      WebhookHttpsServer https,
      AdminHttpServer admin,
      PrometheusMeterRegistry registry) {
    this.config = config;
    this.certificates = certificates;
    this.keyManager = keyManager;
    this.https = https;
    this.admin = admin;
    this.registry = registry;
  }

  /**
   * Starts everything. With {@code TLS_STORE=kubernetes} a client is required; with {@code memory}
   * none is used.
   */
  public static WebhookApp start(
      WebhookConfig config,
      Optional<KubernetesClient> client,
      Clock clock,
      PrometheusMeterRegistry registry) {
    HttpServerLimits.apply(config.server().requestTimeout());
    TlsSettings tls = config.tls();
    CertificateStore store;
    CaBundlePublisher publisher;
    if (tls.store() == TlsSettings.Store.KUBERNETES) {
      KubernetesClient kubernetes =
          client.orElseThrow(
              () -> new IllegalArgumentException("TLS_STORE=kubernetes needs a Kubernetes client"));
      store = new SecretCertificateStore(kubernetes, tls.namespace(), tls.secretName());
      publisher =
          new WebhookConfigurationCaBundlePublisher(kubernetes, tls.webhookConfigurationName());
    } else {
      store = new InMemoryCertificateStore();
      publisher = CaBundlePublisher.none();
    }
    if (tls.caOutputFile().isPresent()) {
      publisher = publisher.andThen(new CaBundleFile(tls.caOutputFile().get()));
    }

    ReloadableKeyManager keyManager = new ReloadableKeyManager();
    CertificateManager certificates =
        new CertificateManager(
            tls,
            store,
            publisher,
            new CertificateIssuer(new SecureRandom()),
            keyManager,
            clock,
            registry);

    KubernetesSerialization serialization =
        client
            .map(KubernetesClient::getKubernetesSerialization)
            .orElseGet(KubernetesSerialization::new);
    AdmissionReviewCodec codec = new AdmissionReviewCodec(serialization);
    AdmissionMetrics metrics = new AdmissionMetrics(registry);
    PodMutator mutator = new PodMutator(config.sidecar());
    PodAdmissionHandler pods = new PodAdmissionHandler(codec, mutator, metrics);
    AdmissionHttpHandler admission =
        new AdmissionHttpHandler(codec, pods, metrics, config.server().maxRequestBytes());

    WebhookApp[] self = new WebhookApp[1];
    Map<String, HttpHandler> routes = new LinkedHashMap<>();
    routes.put(AdmissionHttpHandler.PATH, admission);
    routes.put(
        "/healthz", exchange -> AdminHttpServer.respond(exchange, 200, "text/plain", "alive\n"));
    routes.put(
        "/readyz",
        exchange -> {
          Check check = self[0] == null ? Check.failing("starting") : self[0].readiness();
          AdminHttpServer.respond(
              exchange, check.ok() ? 200 : 503, "text/plain", check.detail() + "\n");
        });

    WebhookHttpsServer https =
        WebhookHttpsServer.start(
            new InetSocketAddress(config.server().bindAddress(), config.server().httpsPort()),
            ServerTls.context(keyManager),
            config.server(),
            routes,
            metrics::rejectedConnection);
    AdminHttpServer admin;
    try {
      admin =
          AdminHttpServer.builder(
                  new InetSocketAddress(
                      config.server().bindAddress(), config.server().metricsPort()))
              .metrics(registry)
              .liveness(() -> Check.ok("alive"))
              .readiness(() -> self[0] == null ? Check.failing("starting") : self[0].readiness())
              .start();
    } catch (RuntimeException e) {
      https.close();
      throw e;
    }
    WebhookApp app = new WebhookApp(config, certificates, keyManager, https, admin, registry);
    self[0] = app;
    certificates.start();
    Thread warmup = new Thread(() -> app.warmUp(codec, mutator), "warmup");
    warmup.setDaemon(true);
    warmup.start();
    log.info(
        "webhook listening on {} HTTPS port {} (admin port {}), TLS store {}, injecting {} in {} mode",
        config.server().bindAddress(),
        https.port(),
        admin.port(),
        store.describe(),
        config.sidecar().image(),
        config.sidecar().mode().value());
    return app;
  }

  /**
   * Compiles the admission path and the TLS handshake before the webhook reports ready: a cold JVM
   * answers its first reviews slowly, and the API server's first burst would queue behind them.
   * Bounded in time; a failure only ends it early.
   */
  private void warmUp(AdmissionReviewCodec codec, PodMutator mutator) {
    try {
      long start = System.nanoTime();
      int reviews =
          AdmissionWarmup.run(codec, mutator, config.server().warmupReviews(), WARMUP_BUDGET);
      certificates.whenReady().join();
      int handshakes =
          TlsWarmup.run(
              https.reachableAddress(),
              certificates.served().orElseThrow().trustBundle(),
              config.server().warmupHandshakes(),
              WARMUP_BUDGET);
      log.info(
          "warmed up with {} reviews and {} TLS handshakes in {} ms",
          reviews,
          handshakes,
          (System.nanoTime() - start) / 1_000_000);
    } catch (RuntimeException e) {
      if (!draining) {
        log.warn("warm-up ended early: {}", e.toString());
      }
    } finally {
      warmedUp = true;
    }
  }

  /** Ready once TLS is served and published and the warm-up is done, until draining starts. */
  public Check readiness() {
    if (draining) {
      return Check.failing("shutting down");
    }
    if (!warmedUp) {
      return Check.failing("warming up");
    }
    return certificates.ready()
        ? Check.ok("ready")
        : Check.failing("waiting for the TLS certificate and the caBundle to be in place");
  }

  public boolean isReady() {
    return readiness().ok();
  }

  public int httpsPort() {
    return https.port();
  }

  public int adminPort() {
    return admin.port();
  }

  public CertificateManager certificates() {
    return certificates;
  }

  public ReloadableKeyManager keyManager() {
    return keyManager;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public WebhookConfig config() {
    return config;
  }

  /** Reports not ready, so that endpoints drop this replica before it stops answering. */
  public void startDraining() {
    draining = true;
  }

  /** Stops at once; exchanges in progress are cut. */
  @Override
  public void close() {
    close(0);
  }

  /** Stops accepting, lets exchanges in progress finish for up to {@code graceSeconds}, stops. */
  public void close(int graceSeconds) {
    draining = true;
    certificates.close();
    https.stop(graceSeconds);
    admin.close();
  }
}

package io.conveyor.webhook.tls;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.retry.Backoff;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the webhook's TLS right, without restarts: on each pass it reads the stored material
 * (creating it on first start), renews what the {@link RenewalPolicy} says is due, publishes the
 * trust bundle, and only then serves the new certificate — so the API server trusts a certificate
 * before it is ever presented. Replicas coordinate through the store's optimistic writes only; a
 * replica that loses a race uses the winner's material.
 *
 * <p>Passes run on one thread: at start until the first success (with backoff), then every {@code
 * checkInterval}, which also picks up a rotation made by another replica and repairs a caBundle
 * reset by someone re-applying the manifests.
 */
public final class CertificateManager implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CertificateManager.class);
  static final int STORE_ATTEMPTS = 3;
  static final Backoff RETRY =
      new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 2.0, 0.2);

  private final TlsSettings settings;
  private final CertificateStore store;
  private final CaBundlePublisher publisher;
  private final CertificateIssuer issuer;
  private final ReloadableKeyManager keyManager;
  private final Clock clock;
  private final RenewalPolicy policy;
  private final AtomicReference<TlsMaterial> served = new AtomicReference<>();
  private final ScheduledExecutorService scheduler;
  private final Counter caRotations;
  private final Counter certificateRotations;
  private final Counter bundlePublications;
  private final Counter failures;
  private volatile boolean ready;
  private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
  private int failedAttempts;

  public CertificateManager(
      TlsSettings settings,
      CertificateStore store,
      CaBundlePublisher publisher,
      CertificateIssuer issuer,
      ReloadableKeyManager keyManager,
      Clock clock,
      MeterRegistry registry) {
    this.settings = settings;
    this.store = store;
    this.publisher = publisher;
    this.issuer = issuer;
    this.keyManager = keyManager;
    this.clock = clock;
    this.policy = RenewalPolicy.of(settings);
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.named("tls-manager"));
    executor.setRemoveOnCancelPolicy(true);
    this.scheduler = executor;
    this.caRotations = rotations(registry, "ca");
    this.certificateRotations = rotations(registry, "certificate");
    this.bundlePublications =
        Counter.builder("conveyor.webhook.tls.cabundle.updates")
            .description("Times the trust bundle was written to the webhook configuration")
            .register(registry);
    this.failures =
        Counter.builder("conveyor.webhook.tls.reconcile.failures")
            .description("TLS passes that failed and were retried")
            .register(registry);
    Gauge.builder("conveyor.webhook.tls.certificate.expiry", this, m -> m.secondsToExpiry())
        .description("Seconds until the served certificate expires")
        .baseUnit("seconds")
        .register(registry);
  }

  private static Counter rotations(MeterRegistry registry, String kind) {
    return Counter.builder("conveyor.webhook.tls.rotations")
        .description("Certificates issued by this replica")
        .tag("kind", kind)
        .register(registry);
  }

  /** Starts the passes on the manager's thread; the first runs at once. */
  public void start() {
    scheduler.execute(this::runScheduledPass);
  }

  /** True once a certificate is served and the trust bundle is published; it stays true. */
  public boolean ready() {
    return ready;
  }

  /** Completes after the first successful pass. */
  public CompletableFuture<Void> whenReady() {
    return firstReady;
  }

  /** The material served now, if any. */
  public Optional<TlsMaterial> served() {
    return Optional.ofNullable(served.get());
  }

  /**
   * One pass: make sure valid material is stored, publish its trust bundle, serve it.
   *
   * @throws RuntimeException when the store or the publisher failed; nothing served changes then
   */
  public synchronized void reconcile() {
    Instant now = clock.instant();
    TlsMaterial material = ensureStored(now);
    if (publisher.publish(material.trustBundlePem())) {
      bundlePublications.increment();
    }
    TlsMaterial previous = served.get();
    if (previous == null || !previous.certificate().equals(material.certificate())) {
      keyManager.install(material.key(), material.certificate());
      served.set(material);
      log.info(
          "serving certificate {} (serial {}, valid until {})",
          subject(material.certificate()),
          material.certificate().getSerialNumber().toString(16),
          material.certificate().getNotAfter().toInstant());
    }
    ready = true;
    firstReady.complete(null);
  }

  private TlsMaterial ensureStored(Instant now) {
    for (int attempt = 1; attempt <= STORE_ATTEMPTS; attempt++) {
      Optional<CertificateStore.Stored> loaded = store.load();
      try {
        if (loaded.isEmpty()) {
          TlsMaterial fresh = issuer.issueAll(now, settings);
          store.create(fresh);
          caRotations.increment();
          certificateRotations.increment();
          log.info("created a CA and a serving certificate in {}", store.describe());
          return fresh;
        }
        CertificateStore.Stored stored = loaded.get();
        if (stored.material().isEmpty()) {
          log.warn(
              "{} cannot be read ({}); replacing it with a new CA and certificate",
              store.describe(),
              stored.unreadable().orElse("unknown reason"));
          TlsMaterial fresh = issuer.issueAll(now, settings);
          store.replace(stored, fresh);
          caRotations.increment();
          certificateRotations.increment();
          return fresh;
        }
        TlsMaterial current = stored.material().get();
        RenewalPolicy.Decision decision = policy.evaluate(current, now, settings.dnsNames());
        TlsMaterial next =
            switch (decision.action()) {
              case KEEP -> current;
              case REBUILD_BUNDLE ->
                  new TlsMaterial(
                      current.caCertificate(),
                      current.caKey(),
                      current.certificate(),
                      current.key(),
                      TlsMaterial.bundle(current.caCertificate(), current.trustBundle(), now));
              case RENEW_CERTIFICATE -> issuer.renewCertificate(current, now, settings);
              case RENEW_CA -> issuer.renewCa(current, now, settings);
            };
        if (next == current) {
          return current;
        }
        store.replace(stored, next);
        if (decision.action() == RenewalPolicy.Action.RENEW_CA) {
          caRotations.increment();
        }
        if (decision.action() != RenewalPolicy.Action.REBUILD_BUNDLE) {
          certificateRotations.increment();
        }
        log.info("{} in {}: {}", describe(decision.action()), store.describe(), decision.reason());
        return next;
      } catch (CertificateStore.ConflictException e) {
        log.info("{}; using what the other replica wrote", e.getMessage());
      }
    }
    throw new IllegalStateException(
        store.describe() + " changed under every one of " + STORE_ATTEMPTS + " attempts");
  }

  private void runScheduledPass() {
    Duration next;
    try {
      reconcile();
      failedAttempts = 0;
      next = settings.checkInterval();
    } catch (RuntimeException e) {
      failures.increment();
      next = RETRY.delay(failedAttempts++, ThreadLocalRandom.current());
      log.warn(
          "TLS pass failed (attempt {}), next try in {} ms: {}",
          failedAttempts,
          next.toMillis(),
          e.toString());
    }
    if (!scheduler.isShutdown()) {
      scheduler.schedule(this::runScheduledPass, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private double secondsToExpiry() {
    TlsMaterial material = served.get();
    if (material == null) {
      return Double.NaN;
    }
    return Duration.between(clock.instant(), material.certificate().getNotAfter().toInstant())
        .toSeconds();
  }

  private static String describe(RenewalPolicy.Action action) {
    return switch (action) {
      case KEEP -> "kept the certificate";
      case REBUILD_BUNDLE -> "rebuilt the trust bundle";
      case RENEW_CERTIFICATE -> "renewed the serving certificate";
      case RENEW_CA -> "renewed the CA and the serving certificate";
    };
  }

  private static String subject(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName();
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    firstReady.cancel(false);
  }
}

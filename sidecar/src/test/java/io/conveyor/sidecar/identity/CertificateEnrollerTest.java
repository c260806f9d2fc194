package io.conveyor.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.TrustBundle;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.identity.BootstrapTokenVerifier;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.testkit.MutableClock;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The enroller against the router's real certificate service (real CA, CSR validator and
 * bootstrap-token verifier) on an in-process gRPC server, with an injected clock for the
 * certificate's lifetime and a real scheduler for the retries.
 */
class CertificateEnrollerTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String TOKEN = "a-bootstrap-token-of-some-length";
  private static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "default");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final MutableClock clock = new MutableClock();
  private final PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-sidecar");
  private final CertificateAuthority authority =
      CertificateAuthority.create(WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, RANDOM);
  private final ScheduledExecutorService scheduler = new ScheduledThreadPoolExecutor(1);
  private final List<IssueCertificateRequest> seen = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(CertificateEnroller.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final String name = InProcessServerBuilder.generateName();
  private Path tokenFile;

  @BeforeEach
  void setUp() throws Exception {
    tokenFile = Files.writeString(dir.resolve("bootstrap-token"), TOKEN + "\n");
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    logger.detachAppender(logs);
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
    scheduler.shutdownNow();
  }

  /** The standalone router's certificate service, recording every request it receives. */
  private void serveRouter() {
    serveRouter(authority, CertificateAuthority.DEFAULT_WORKLOAD_TTL, clock);
  }

  /**
   * As {@link #serveRouter()}, under {@code ca}, issuing certificates of {@code ttl}; closed with
   * the test or by the caller (a router restarted with another CA).
   */
  private RouterServer serveRouter(CertificateAuthority ca, Duration ttl, Clock routerClock) {
    CertificateIssuingService service =
        new CertificateIssuingService(
            new BootstrapTokenVerifier(new EnrolmentCredential.BootstrapToken(TOKEN)),
            new CsrValidator(),
            ca,
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
            ttl,
            CertificateIssuingService.DEFAULT_MAX_CONCURRENT,
            MetricsRegistries.prometheus("conveyor-router"));
    ServerInterceptor recording =
        new ServerInterceptor() {
          @Override
          public <Q, A> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
              @Override
              public void onMessage(Q message) {
                seen.add((IssueCertificateRequest) message);
                super.onMessage(message);
              }
            };
          }
        };
    BindableService recorded = () -> ServerInterceptors.intercept(service, recording);
    RouterServer server =
        RouterServer.start(
            InProcessServerBuilder.forName(name),
            new RouterCore(routerClock, RouterSettings.defaults()),
            MetricsRegistries.prometheus("conveyor-router"),
            RouterServer.DEFAULT_MIN_ASSIGN_INTERVAL,
            List.of(recorded));
    toClose.add(server);
    return server;
  }

  private CertificateEnroller enroller() {
    return enroller(new SigningRequests(ME, RANDOM));
  }

  private CertificateEnroller enroller(SigningRequests requests) {
    return enroller(
        clock,
        new CertificateEnroller.Settings(
            new Backoff(Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.2),
            Duration.ofSeconds(10),
            Duration.ofMillis(20),
            Duration.ofHours(1)),
        requests);
  }

  private CertificateEnroller enroller(Clock enrollerClock, CertificateEnroller.Settings settings) {
    return enroller(enrollerClock, settings, new SigningRequests(ME, RANDOM));
  }

  private CertificateEnroller enroller(
      Clock enrollerClock, CertificateEnroller.Settings settings, SigningRequests requests) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    toClose.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    EnrolmentMetrics metrics = new EnrolmentMetrics(meters);
    CertificateEnroller enroller =
        new CertificateEnroller(
            requests,
            new CredentialFile(tokenFile, CredentialFile.Kind.BOOTSTRAP_TOKEN),
            channel,
            scheduler,
            enrollerClock,
            new SplittableRandom(7),
            metrics,
            settings);
    metrics.expiryGauge(enroller::secondsToExpiry);
    toClose.add(0, enroller);
    return enroller;
  }

  private double sample(String line) {
    for (String scraped : meters.scrape().split("\n")) {
      if (scraped.startsWith(line + " ")) {
        return Double.parseDouble(scraped.substring(line.length() + 1));
      }
    }
    throw new AssertionError("no sample " + line + " in\n" + meters.scrape());
  }

  private double enrolments(String result) {
    return sample(
        "conveyor_sidecar_enrolments_total{app=\"conveyor-sidecar\",result=\"" + result + "\"}");
  }

  private double secondsToExpiry() {
    return sample("conveyor_sidecar_certificate_expiry_seconds{app=\"conveyor-sidecar\"}");
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private WorkloadCertificate awaitCertificate(CertificateEnroller enroller) {
    await().atMost(WAIT).until(() -> enroller.current().isPresent());
    return enroller.current().orElseThrow();
  }

  @Test
  void enrolsWithTheBootstrapTokenAndTheChainVerifiesToTheBundle() throws Exception {
    serveRouter();
    CertificateEnroller enroller = enroller();
    assertThat(secondsToExpiry()).isEqualTo(-1.0);
    assertThat(enrolments("issued")).isZero();
    assertThat(meters.scrape())
        .contains("# HELP conveyor_sidecar_enrolments_total Certificate enrolments")
        .contains("# HELP conveyor_sidecar_certificate_expiry_seconds Seconds until");

    enroller.start();
    WorkloadCertificate certificate = awaitCertificate(enroller);

    assertThat(certificate.trustBundle()).containsExactly(authority.root());
    PKIXParameters parameters =
        new PKIXParameters(Set.of(new TrustAnchor(certificate.trustBundle().get(0), null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(clock.instant()));
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    CertPathValidator.getInstance("PKIX")
        .validate(factory.generateCertPath(certificate.chain().subList(0, 1)), parameters);
    assertThat(certificate.leaf().getSubjectAlternativeNames())
        .containsExactly(List.of(6, ME.toUri()));
    assertThat(certificate.notAfter()).isEqualTo(clock.instant().plus(Duration.ofHours(24)));
    assertThat(enrolments("issued")).isEqualTo(1.0);
    assertThat(secondsToExpiry()).isEqualTo(Duration.ofHours(24).toSeconds());
    assertThat(warnings()).isEmpty();
  }

  @Test
  void theKeyNeverLeavesTheProcessOnlyTheCsrIsSent() throws Exception {
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.start();
    WorkloadCertificate certificate = awaitCertificate(enroller);

    assertThat(seen).hasSize(1);
    IssueCertificateRequest request = seen.get(0);
    assertThat(request.getAllFields().keySet())
        .extracting(field -> field.getName())
        .containsExactlyInAnyOrder("csr", "bootstrap_token");
    PKCS10CertificationRequest csr = new PKCS10CertificationRequest(request.getCsr().toByteArray());
    assertThat(csr.getSubjectPublicKeyInfo().getEncoded())
        .isEqualTo(certificate.leaf().getPublicKey().getEncoded());
    // The private scalar appears nowhere in what was sent.
    byte[] secret = ((ECPrivateKey) certificate.privateKey()).getS().toByteArray();
    assertThat(indexOf(request.toByteArray(), stripSign(secret))).isEqualTo(-1);
    // And the key held is the one the certificate is for.
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(certificate.privateKey());
    signer.update(new byte[] {1, 2, 3});
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(certificate.leaf().getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void renewsAtHalfLifeWhenTheClockMovesWithANewKeyAndCertificate() {
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);

    // Half of 24 h, give or take the schedule's 10% jitter: not yet due at 9 h.
    clock.advance(Duration.ofHours(9));
    await()
        .during(Duration.ofMillis(300))
        .atMost(WAIT)
        .until(() -> enroller.current().orElseThrow() == first);
    clock.advance(Duration.ofHours(6));

    await().atMost(WAIT).until(() -> enroller.current().orElseThrow() != first);
    WorkloadCertificate second = enroller.current().orElseThrow();
    assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
    assertThat(second.leaf().getPublicKey()).isNotEqualTo(first.leaf().getPublicKey());
    assertThat(second.notAfter()).isEqualTo(clock.instant().plus(Duration.ofHours(24)));
    assertThat(enrolments("issued")).isEqualTo(2.0);
    assertThat(seen).hasSize(2);
  }

  @Test
  void theFirstCertificateIsForTheKeyMadeAheadAndARenewalMakesANewOne() {
    List<KeyPair> keys = new CopyOnWriteArrayList<>();
    List<String> makers = new CopyOnWriteArrayList<>();
    SigningRequests requests =
        new SigningRequests(
            ME,
            () -> {
              KeyPair keyPair = CertificateRequests.newKeyPair(RANDOM);
              keys.add(keyPair);
              makers.add(Thread.currentThread().getName());
              return new SigningRequests.SigningRequest(
                  keyPair, CertificateRequests.csrFor(ME, keyPair));
            });
    requests.prepareAhead(); // as the sidecar does before it starts the enroller
    serveRouter();
    CertificateEnroller enroller = enroller(requests);
    enroller.start();

    WorkloadCertificate first = awaitCertificate(enroller);
    clock.advance(Duration.ofHours(15)); // past half-life and its jitter
    await().atMost(WAIT).until(() -> enroller.current().orElseThrow() != first);
    WorkloadCertificate second = enroller.current().orElseThrow();

    assertThat(makers).hasSize(2).first().isEqualTo(SigningRequests.AHEAD_THREAD);
    assertThat(makers.get(1)).isNotEqualTo(SigningRequests.AHEAD_THREAD);
    assertThat(first.leaf().getPublicKey()).isEqualTo(keys.get(0).getPublic());
    assertThat(second.leaf().getPublicKey()).isEqualTo(keys.get(1).getPublic());
  }

  @Test
  void aWrongTokenIsRetriedWithoutACertificateAndWarnedOnce() throws Exception {
    Files.writeString(tokenFile, "not-the-token");
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.start();

    await().atMost(WAIT).until(() -> enrolments("unauthenticated") >= 4);
    assertThat(enroller.current()).isEmpty();
    assertThat(secondsToExpiry()).isEqualTo(-1.0);
    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("the CA refused the bootstrap token " + tokenFile)
        .contains("UNAUTHENTICATED")
        .doesNotContain("not-the-token");

    // The file is re-read at each attempt: fixing it is enough.
    Files.writeString(tokenFile, TOKEN);
    awaitCertificate(enroller);
    assertThat(enrolments("issued")).isEqualTo(1.0);
  }

  @Test
  void enrolsOnceTheRouterComesUp() {
    CertificateEnroller enroller = enroller();
    enroller.start();
    await().atMost(WAIT).until(() -> enrolments("unavailable") >= 2);
    assertThat(enroller.current()).isEmpty();

    serveRouter();

    awaitCertificate(enroller);
    assertThat(warnings()).isEmpty();
  }

  @Test
  void aFailedRenewalKeepsTheOldCertificateUntilItExpires() throws Exception {
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);

    Files.writeString(tokenFile, "revoked");
    clock.advance(Duration.ofHours(15));
    await().atMost(WAIT).until(() -> enrolments("unauthenticated") >= 2);
    assertThat(enroller.current()).containsSame(first);
    assertThat(warnings()).anyMatch(w -> w.contains("keeping the current one until it expires"));

    clock.advance(Duration.ofHours(8).plusMinutes(30));
    await()
        .atMost(WAIT)
        .until(() -> warnings().stream().anyMatch(w -> w.contains("renewal is still failing")));
    assertThat(enroller.current()).containsSame(first);

    clock.advance(Duration.ofHours(1));
    assertThat(enroller.current()).isEmpty();
    assertThat(secondsToExpiry()).isZero();
    await()
        .atMost(WAIT)
        .until(() -> warnings().stream().anyMatch(w -> w.contains("could not be renewed")));
    assertThat(secondsToExpiry()).as("expired, not never enrolled").isZero();
  }

  @Test
  void aCertificateOfSecondsIsRenewedAtHalfItsLifeNotAtOnce() {
    // The CA backdates notBefore by a minute: counted from there, half of a 20 s certificate's
    // life was over before it arrived, and the enroller renewed it in a loop.
    serveRouter(authority, Duration.ofSeconds(20), clock);
    CertificateEnroller enroller = enroller();
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);

    await()
        .during(Duration.ofMillis(500))
        .atMost(WAIT)
        .until(() -> enroller.current().orElseThrow() == first);
    assertThat(enrolments("issued")).isEqualTo(1.0);

    // Half of 20 s, give or take 10% jitter: at most 12 s.
    clock.advance(Duration.ofSeconds(12));
    await().atMost(WAIT).until(() -> enroller.current().orElseThrow() != first);
    assertThat(enrolments("issued")).isEqualTo(2.0);
  }

  @Test
  void withTheDefaultCheckIntervalShortCertificatesAreRenewedBeforeTheyExpire() {
    // Real time: a 2 s certificate and the default settings, whose 30 s of old between checks
    // must not postpone a renewal due sooner.
    Clock real = Clock.systemUTC();
    serveRouter(
        CertificateAuthority.create(WorkloadIdentity.DEFAULT_TRUST_DOMAIN, real, RANDOM),
        Duration.ofSeconds(2),
        real);
    CertificateEnroller enroller = enroller(real, CertificateEnroller.Settings.defaults());
    List<Instant> arrivals = new CopyOnWriteArrayList<>();
    List<WorkloadCertificate> issued = new CopyOnWriteArrayList<>();
    enroller.onCertificate(
        certificate -> {
          arrivals.add(real.instant());
          issued.add(certificate);
        });
    enroller.start();

    await().atMost(WAIT).until(() -> issued.size() >= 4);
    for (int i = 1; i < 4; i++) {
      // X.509 times are whole seconds: what is left of a certificate when it arrives is 1 to 2 s.
      Duration life = Duration.between(arrivals.get(i - 1), issued.get(i - 1).notAfter());
      Duration gap = Duration.between(arrivals.get(i - 1), arrivals.get(i));
      // At half of that, give or take 10%: not at once, and before the previous one expired.
      assertThat(gap)
          .as("renewal %d of a certificate with %s left", i, life)
          .isGreaterThanOrEqualTo(life.multipliedBy(4).dividedBy(10).minusMillis(20));
      assertThat(arrivals.get(i)).as("renewal %d", i).isBefore(issued.get(i - 1).notAfter());
    }
  }

  @Test
  void aReplacedCaIsNoticedInTheTrustBundleAndTheSidecarEnrolsAgainAtOnce() throws Exception {
    AtomicReference<TrustBundle> bundle =
        new AtomicReference<>(new TrustBundle(List.of(authority.root())));
    RouterServer before = serveRouter(authority, CertificateAuthority.DEFAULT_WORKLOAD_TTL, clock);
    CertificateEnroller enroller = enroller();
    enroller.checkTrustAgainst(bundle::get);
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);
    await()
        .during(Duration.ofMillis(300))
        .atMost(WAIT)
        .until(() -> enroller.current().orElseThrow() == first);

    // The router restarts with a new CA, and the trust bundle file now holds its root only. The
    // old certificate has 24 h to live, renewal is 12 h away, and no peer accepts it any more.
    before.close();
    CertificateAuthority replaced =
        CertificateAuthority.create(WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, RANDOM);
    serveRouter(replaced, CertificateAuthority.DEFAULT_WORKLOAD_TTL, clock);
    bundle.set(new TrustBundle(List.of(replaced.root())));

    await().atMost(WAIT).until(() -> enroller.current().orElseThrow() != first);
    WorkloadCertificate second = enroller.current().orElseThrow();
    second.leaf().verify(replaced.root().getPublicKey());
    assertThat(second.trustBundle()).containsExactly(replaced.root());
    assertThat(enrolments("issued")).isEqualTo(2.0);
    assertThat(warnings())
        .anyMatch(w -> w.contains("which the trust bundle no longer holds (the CA was replaced)"));
  }

  @Test
  void aBundleWhoseRootTheCaDoesNotIssueUnderCostsOneEnrolmentNotALoop() {
    AtomicReference<TrustBundle> bundle =
        new AtomicReference<>(new TrustBundle(List.of(authority.root())));
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.checkTrustAgainst(bundle::get);
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);

    // The bundle moves to a root the CA does not issue under (yet): asking again cannot help
    // until one of them changes.
    bundle.set(
        new TrustBundle(
            List.of(
                CertificateAuthority.create(WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, RANDOM)
                    .root())));

    await().atMost(WAIT).until(() -> enroller.current().orElseThrow() != first);
    await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> enrolments("issued") == 2.0);
  }

  @Test
  void noTrustBundleYetIsNoReasonToEnrolAgain() {
    serveRouter();
    CertificateEnroller enroller = enroller();
    enroller.checkTrustAgainst(
        () -> {
          throw new IllegalStateException("no trust bundle yet in /nowhere");
        });
    enroller.start();
    WorkloadCertificate first = awaitCertificate(enroller);

    await()
        .during(Duration.ofMillis(300))
        .atMost(WAIT)
        .until(() -> enroller.current().orElseThrow() == first);
    assertThat(enrolments("issued")).isEqualTo(1.0);
  }

  private static byte[] stripSign(byte[] bigEndian) {
    return bigEndian.length > 1 && bigEndian[0] == 0
        ? java.util.Arrays.copyOfRange(bigEndian, 1, bigEndian.length)
        : bigEndian;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}

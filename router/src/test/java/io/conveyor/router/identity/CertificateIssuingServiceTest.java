package io.conveyor.router.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.etl.v1.CertificateServiceGrpc;
import io.conveyor.etl.v1.CertificateServiceGrpc.CertificateServiceBlockingStub;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.EnrolmentVerifier;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.testkit.MutableClock;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The certificate service on a real (in-process) gRPC server next to the coordinator, with the real
 * CA, CSR validator and bootstrap-token verifier: what a sidecar enrolling standalone meets.
 */
class CertificateIssuingServiceTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String TOKEN = "a-bootstrap-token-of-some-length";
  private static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "orders");

  private final MutableClock clock = new MutableClock();
  private final PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-router");
  private final CertificateAuthority authority =
      CertificateAuthority.create(WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, RANDOM);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
  }

  private CertificateServiceBlockingStub serve(BindableService service) {
    String name = InProcessServerBuilder.generateName();
    RouterServer server =
        RouterServer.start(
            InProcessServerBuilder.forName(name),
            new RouterCore(clock, RouterSettings.defaults()),
            meters,
            RouterServer.DEFAULT_MIN_ASSIGN_INTERVAL,
            List.of(service));
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    toClose.add(server);
    toClose.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    // Reported by health next to the coordinator, like every service on the router's port.
    assertThat(
            HealthGrpc.newBlockingStub(channel)
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService("conveyor.etl.v1.CertificateService")
                        .build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
    return CertificateServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private CertificateServiceBlockingStub standalone() {
    return serve(
        new CertificateIssuingService(
            new BootstrapTokenVerifier(new EnrolmentCredential.BootstrapToken(TOKEN)),
            new CsrValidator(),
            authority,
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
            meters));
  }

  private static IssueCertificateRequest withToken(byte[] csr, String token) {
    return IssueCertificateRequest.newBuilder()
        .setCsr(ByteString.copyFrom(csr))
        .setBootstrapToken(token)
        .build();
  }

  private static byte[] goodCsr() {
    return CertificateRequests.csrFor(ME, CertificateRequests.newKeyPair(RANDOM));
  }

  private double sample(String line) {
    for (String scraped : meters.scrape().split("\n")) {
      if (scraped.startsWith(line + " ")) {
        return Double.parseDouble(scraped.substring(line.length() + 1));
      }
    }
    throw new AssertionError("no sample " + line + " in\n" + meters.scrape());
  }

  private double refused(String reason) {
    return sample(
        "conveyor_router_certificates_refused_total{app=\"conveyor-router\",reason=\""
            + reason
            + "\"}");
  }

  @Test
  void aGoodBootstrapTokenEarnsA24HourCertificateThatVerifiesToTheReturnedBundle()
      throws Exception {
    IssueCertificateResponse response = standalone().issueCertificate(withToken(goodCsr(), TOKEN));

    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    for (ByteString der : response.getCertificateChainList()) {
      chain.add(
          (X509Certificate)
              factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
    }
    assertThat(response.getTrustBundleCount()).isEqualTo(1);
    X509Certificate root =
        (X509Certificate)
            factory.generateCertificate(
                new ByteArrayInputStream(response.getTrustBundle(0).toByteArray()));
    assertThat(root).isEqualTo(authority.root());
    assertThat(chain).hasSize(2);
    assertThat(chain.get(1)).isEqualTo(root);

    // JDK PKIX, at the injected clock's now: the leaf verifies to the bundle's root.
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(clock.instant()));
    CertPathValidator.getInstance("PKIX")
        .validate(factory.generateCertPath(chain.subList(0, 1)), parameters);

    Instant expectedNotAfter = clock.instant().plus(Duration.ofHours(24));
    assertThat(chain.get(0).getNotAfter().toInstant()).isEqualTo(expectedNotAfter);
    assertThat(
            Instant.ofEpochSecond(
                response.getNotAfter().getSeconds(), response.getNotAfter().getNanos()))
        .isEqualTo(expectedNotAfter);
    assertThat(chain.get(0).getSubjectAlternativeNames())
        .containsExactly(List.of(GeneralName.uniformResourceIdentifier, ME.toUri()));
    assertThat(sample("conveyor_router_certificates_issued_total{app=\"conveyor-router\"}"))
        .isEqualTo(1.0);
  }

  @Test
  void everyRefusalReasonIsExportedAsZeroWithAHelpText() {
    standalone();

    String scrape = meters.scrape();
    assertThat(scrape)
        .contains("# HELP conveyor_router_certificates_issued_total Workload certificates")
        .contains("# HELP conveyor_router_certificates_refused_total Certificate requests refused");
    for (CertificateMetrics.Refusal reason : CertificateMetrics.Refusal.values()) {
      assertThat(refused(reason.label())).as(reason.label()).isZero();
    }
  }

  private static void assertRefused(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription())
                  .contains(messagePart)
                  .doesNotContain(TOKEN);
            });
  }

  @Test
  void aWrongBootstrapTokenIsUnauthenticated() {
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () -> stub.issueCertificate(withToken(goodCsr(), TOKEN + "x")),
        Status.Code.UNAUTHENTICATED,
        "the bootstrap token is not the one this router was given");
    assertRefused(
        () -> stub.issueCertificate(withToken(goodCsr(), "")),
        Status.Code.UNAUTHENTICATED,
        "the bootstrap token is not the one");
    assertThat(refused("unauthenticated")).isEqualTo(2.0);
    assertThat(sample("conveyor_router_certificates_issued_total{app=\"conveyor-router\"}"))
        .isZero();
  }

  @Test
  void aRequestWithoutCredentialIsUnauthenticated() {
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () ->
            stub.issueCertificate(
                IssueCertificateRequest.newBuilder()
                    .setCsr(ByteString.copyFrom(goodCsr()))
                    .build()),
        Status.Code.UNAUTHENTICATED,
        "the request carries no credential");
    assertThat(refused("no_credential")).isEqualTo(1.0);
  }

  @Test
  void aServiceAccountTokenIsUnauthenticatedStandalone() {
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () ->
            stub.issueCertificate(
                IssueCertificateRequest.newBuilder()
                    .setCsr(ByteString.copyFrom(goodCsr()))
                    .setServiceAccountToken("eyJhbGciOiJSUzI1NiJ9.e30.sig")
                    .build()),
        Status.Code.UNAUTHENTICATED,
        "runs standalone and takes only its bootstrap token");
    assertThat(refused("unauthenticated")).isEqualTo(1.0);
  }

  private static KeyPair ecKeyPair(String curve) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec(curve), RANDOM);
    return generator.generateKeyPair();
  }

  /** A CSR for ME with {@code publicKey}, signed by {@code signer}, with {@code extraSans}. */
  private static byte[] csr(
      X500Name subject, KeyPair publicKey, KeyPair signer, GeneralName... extraSans)
      throws Exception {
    GeneralName[] sans = new GeneralName[extraSans.length + 1];
    sans[0] = new GeneralName(GeneralName.uniformResourceIdentifier, ME.toUri());
    System.arraycopy(extraSans, 0, sans, 1, extraSans.length);
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans));
    return new JcaPKCS10CertificationRequestBuilder(subject, publicKey.getPublic())
        .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()))
        .getEncoded();
  }

  private static final X500Name EMPTY = new X500Name(new RDN[0]);

  @Test
  void aCsrWithAKeyOtherThanP256IsAnInvalidArgumentNamingTheKey() throws Exception {
    KeyPair p384 = ecKeyPair("secp384r1");
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () -> call(stub, csrOrFail(EMPTY, p384, p384)),
        Status.Code.INVALID_ARGUMENT,
        "only P-256 is accepted");
    assertThat(refused("wrong_key_type")).isEqualTo(1.0);
  }

  @Test
  void aCsrWhoseSignatureDoesNotVerifyIsAnInvalidArgument() throws Exception {
    KeyPair mine = ecKeyPair("secp256r1");
    KeyPair other = ecKeyPair("secp256r1");
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () -> call(stub, csrOrFail(EMPTY, mine, other)),
        Status.Code.INVALID_ARGUMENT,
        "signature does not verify");
    assertThat(refused("bad_signature")).isEqualTo(1.0);
  }

  @Test
  void anOversizedCsrIsAnInvalidArgumentNamingTheBound() throws Exception {
    KeyPair mine = ecKeyPair("secp256r1");
    GeneralName[] padding = new GeneralName[600];
    for (int i = 0; i < padding.length; i++) {
      padding[i] = new GeneralName(GeneralName.dNSName, "padding-" + i + ".example.com");
    }
    byte[] oversized = csrOrFail(EMPTY, mine, mine, padding);
    assertThat(oversized.length).isGreaterThan(CsrValidator.DEFAULT_MAX_BYTES);
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () -> call(stub, oversized),
        Status.Code.INVALID_ARGUMENT,
        "more than the " + CsrValidator.DEFAULT_MAX_BYTES + " accepted");
    assertThat(refused("too_large")).isEqualTo(1.0);
  }

  @Test
  void aCsrThatIsNotPkcs10IsAnInvalidArgument() {
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () -> call(stub, new byte[] {0x30, 0x03, 1, 2, 3}),
        Status.Code.INVALID_ARGUMENT,
        "not a DER-encoded PKCS#10 request");
    assertThat(refused("malformed")).isEqualTo(1.0);
  }

  @Test
  void aCsrAskingForMoreThanItsIdentityIsPermissionDenied() throws Exception {
    KeyPair mine = ecKeyPair("secp256r1");
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () ->
            call(
                stub,
                csrOrFail(EMPTY, mine, mine, new GeneralName(GeneralName.dNSName, "bank.example"))),
        Status.Code.PERMISSION_DENIED,
        "DNS name bank.example");
    assertThat(refused("name_mismatch")).isEqualTo(1.0);
  }

  @Test
  void aCsrForAnotherTrustDomainIsPermissionDeniedWhateverTheToken() {
    WorkloadIdentity foreign = new WorkloadIdentity("evil.example", "shop", "orders-0", "orders");
    CertificateServiceBlockingStub stub = standalone();

    assertRefused(
        () ->
            call(stub, CertificateRequests.csrFor(foreign, CertificateRequests.newKeyPair(RANDOM))),
        Status.Code.PERMISSION_DENIED,
        "this CA issues under 'conveyor.etl' only");
    assertThat(refused("foreign_trust_domain")).isEqualTo(1.0);
  }

  @Test
  void aCaWhoseRootHasExpiredAnswersUnavailable() {
    CertificateAuthority shortLived =
        CertificateAuthority.create(
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN, Duration.ofHours(1), clock, RANDOM);
    CertificateServiceBlockingStub stub =
        serve(
            new CertificateIssuingService(
                new BootstrapTokenVerifier(new EnrolmentCredential.BootstrapToken(TOKEN)),
                new CsrValidator(),
                shortLived,
                WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                meters));
    clock.advance(Duration.ofHours(2));

    assertRefused(
        () -> call(stub, goodCsr()),
        Status.Code.UNAVAILABLE,
        "the CA cannot issue certificates now");
    assertThat(refused("unavailable")).isEqualTo(1.0);
  }

  @Test
  void enrolmentsBeyondTheBoundAreResourceExhausted() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // A verifier that holds the one permit until released, as a slow TokenReview would.
    EnrolmentVerifier slow =
        (credential, requested) -> {
          entered.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return requested;
        };
    CertificateServiceBlockingStub stub =
        serve(
            new CertificateIssuingService(
                slow,
                new CsrValidator(),
                authority,
                WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                CertificateAuthority.DEFAULT_WORKLOAD_TTL,
                1,
                meters));
    CompletableFuture<IssueCertificateResponse> first =
        CompletableFuture.supplyAsync(() -> call(stub, goodCsr()));
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();

    assertRefused(
        () -> call(stub, goodCsr()), Status.Code.RESOURCE_EXHAUSTED, "too many enrolments");
    release.countDown();
    assertThat(first.get(30, TimeUnit.SECONDS).getCertificateChainCount()).isEqualTo(2);
    assertThat(call(stub, goodCsr()).getCertificateChainCount()).isEqualTo(2);
    assertThat(refused("busy")).isEqualTo(1.0);
  }

  private static IssueCertificateResponse call(CertificateServiceBlockingStub stub, byte[] csr) {
    return stub.issueCertificate(withToken(csr, TOKEN));
  }

  private static byte[] csrOrFail(
      X500Name subject, KeyPair publicKey, KeyPair signer, GeneralName... extraSans) {
    try {
      return csr(subject, publicKey, signer, extraSans);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

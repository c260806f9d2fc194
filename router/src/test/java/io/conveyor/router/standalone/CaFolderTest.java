package io.conveyor.router.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.router.standalone.StandaloneRouterConfig.Security;
import io.conveyor.router.standalone.StandaloneRouterConfig.SecurityMode;
import io.conveyor.testkit.MutableClock;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone CA folder on a real file system, across "restarts" of the router. */
class CaFolderTest {

  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path temp;
  private final MutableClock clock = new MutableClock();
  private final java.util.concurrent.ScheduledExecutorService scheduler =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

  @org.junit.jupiter.api.AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  private CaFolder open(Path folder, Optional<EnrolmentCredential.BootstrapToken> token)
      throws IOException {
    return CaFolder.open(folder, token, WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, RANDOM);
  }

  @Test
  void theCaIsCreatedOnFirstStartAndTheSameRootIsLoadedOnTheNext() throws Exception {
    Path folder = temp.resolve("state/ca");

    CaFolder first = open(folder, Optional.empty());
    CaFolder second = open(folder, Optional.empty());

    assertThat(folder.resolve("ca.crt")).exists();
    assertThat(Files.getPosixFilePermissions(folder.resolve("ca.key")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(folder))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(second.authority().root()).isEqualTo(first.authority().root());
  }

  @Test
  void withoutAGivenTokenOneIsGeneratedOwnerOnlyAndKeptAcrossRestarts() throws Exception {
    Path folder = temp.resolve("ca");

    CaFolder first = open(folder, Optional.empty());
    CaFolder second = open(folder, Optional.empty());

    Path tokenFile = folder.resolve("bootstrap-token");
    assertThat(Files.getPosixFilePermissions(tokenFile))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(first.bootstrapToken().secret())
        .hasSizeGreaterThanOrEqualTo(Security.MIN_TOKEN_LENGTH)
        .isEqualTo(Files.readString(tokenFile).strip());
    assertThat(second.bootstrapToken()).isEqualTo(first.bootstrapToken());
    // Another folder, another secret: tokens are random, not derived.
    assertThat(open(temp.resolve("other"), Optional.empty()).bootstrapToken())
        .isNotEqualTo(first.bootstrapToken());
  }

  @Test
  void aGivenTokenIsUsedAndNothingIsWrittenForIt() throws Exception {
    Path folder = temp.resolve("ca");
    EnrolmentCredential.BootstrapToken given =
        new EnrolmentCredential.BootstrapToken("given-token-of-enough-length");

    assertThat(open(folder, Optional.of(given)).bootstrapToken()).isEqualTo(given);
    assertThat(folder.resolve("bootstrap-token")).doesNotExist();
  }

  @Test
  void aFolderWithACertificateButNoKeyIsRefusedAndLeftAlone() throws Exception {
    Path folder = temp.resolve("ca");
    open(folder, Optional.empty());
    Files.delete(folder.resolve("ca.key"));
    String certificate = Files.readString(folder.resolve("ca.crt"));

    assertThatThrownBy(() -> open(folder, Optional.empty()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("holds ca.crt but no ca.key");
    assertThat(Files.readString(folder.resolve("ca.crt"))).isEqualTo(certificate);
    assertThat(folder.resolve("ca.key")).doesNotExist();
  }

  @Test
  void plaintextRunsNoCaTouchesNoFolderAndSaysSoInMetrics() throws Exception {
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-router");
    Path folder = temp.resolve("ca");

    assertThat(
            StandaloneSecurity.setUp(
                    new Security(SecurityMode.PLAINTEXT, folder, Optional.empty()),
                    meters,
                    clock,
                    RANDOM,
                    scheduler)
                .services())
        .isEmpty();
    assertThat(folder).doesNotExist();
    assertThat(meters.scrape())
        .contains("# HELP conveyor_router_plaintext 1 when the router was started")
        .contains("conveyor_router_plaintext{app=\"conveyor-router\"} 1.0");
  }

  @Test
  void mtlsServesTheCertificateServiceAndReportsNotPlaintext() throws Exception {
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-router");
    Path folder = temp.resolve("ca");

    assertThat(
            StandaloneSecurity.setUp(
                    new Security(SecurityMode.MTLS, folder, Optional.empty()),
                    meters,
                    clock,
                    RANDOM,
                    scheduler)
                .services())
        .singleElement()
        .satisfies(
            service ->
                assertThat(service.bindService().getServiceDescriptor().getName())
                    .isEqualTo("conveyor.etl.v1.CertificateService"));
    assertThat(folder.resolve("ca.crt")).exists();
    assertThat(meters.scrape()).contains("conveyor_router_plaintext{app=\"conveyor-router\"} 0.0");
  }

  @Test
  void mtlsIssuesSidecarCertificatesOfTheConfiguredLifetime() throws Exception {
    Path folder = temp.resolve("ca");
    String token = "given-token-of-enough-length";
    StandaloneSecurity.Setup setup =
        StandaloneSecurity.setUp(
            new Security(
                SecurityMode.MTLS,
                folder,
                Optional.of(new EnrolmentCredential.BootstrapToken(token)),
                TlsProvider.JDK,
                Duration.ofSeconds(20)),
            MetricsRegistries.prometheus("conveyor-router"),
            clock,
            RANDOM,
            scheduler);
    CertificateIssuingService service = (CertificateIssuingService) setup.services().get(0);
    WorkloadIdentity me = WorkloadIdentity.of("default", "pod-a", "default");
    List<IssueCertificateResponse> answers = new ArrayList<>();
    List<Throwable> errors = new ArrayList<>();

    service.issueCertificate(
        IssueCertificateRequest.newBuilder()
            .setBootstrapToken(token)
            .setCsr(
                ByteString.copyFrom(
                    CertificateRequests.csrFor(me, CertificateRequests.newKeyPair(RANDOM))))
            .build(),
        new StreamObserver<>() {
          @Override
          public void onNext(IssueCertificateResponse value) {
            answers.add(value);
          }

          @Override
          public void onError(Throwable t) {
            errors.add(t);
          }

          @Override
          public void onCompleted() {}
        });

    assertThat(errors).isEmpty();
    assertThat(answers).hasSize(1);
    assertThat(answers.get(0).getNotAfter().getSeconds())
        .isEqualTo(clock.instant().plusSeconds(20).getEpochSecond());
  }
}

package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.testkit.MutableClock;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

  static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "orders");
  static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  private final MutableClock clock = new MutableClock();
  private final CertificateAuthority ca =
      CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);

  @Test
  void theRootIsASelfSignedP256CaForTenYears() throws Exception {
    X509Certificate root = ca.root();

    root.verify(root.getPublicKey());
    assertThat(root.getSubjectX500Principal()).isEqualTo(root.getIssuerX500Principal());
    assertThat(root.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(root.getBasicConstraints()).isZero();
    assertThat(root.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId());
    // keyCertSign (5) and cRLSign (6), nothing else
    assertThat(root.getKeyUsage())
        .containsExactly(false, false, false, false, false, true, true, false, false);
    assertThat(root.getNotBefore().toInstant()).isEqualTo(MutableClock.START.minusSeconds(60));
    assertThat(root.getNotAfter().toInstant())
        .isEqualTo(MutableClock.START.plus(Duration.ofDays(3650)));
  }

  @Test
  void issuesTheIdentitysUriSanOnlyForTheCsrsKey() throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(TestCsrs.RANDOM);

    CertificateChain chain = ca.issue(validated(ME, keyPair));
    X509Certificate leaf = chain.leaf();

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ME.toUri()));
    assertThat(PeerCertificates.identityOf(leaf)).isEqualTo(ME);
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.subjectAlternativeName.getId());
    assertThat(leaf.getPublicKey()).isEqualTo(keyPair.getPublic());
    assertThat(chain.asList()).containsExactly(leaf, ca.root());
  }

  @Test
  void validityRunsFromAMinuteBackToTheTtlAfterNow() throws Exception {
    clock.advance(Duration.ofDays(3));
    Instant now = clock.instant();

    CertificateChain daily = ca.issue(validated(ME));
    CertificateChain hourly = ca.issue(validated(ME), Duration.ofHours(1));

    assertThat(daily.leaf().getNotBefore().toInstant()).isEqualTo(now.minusSeconds(60));
    assertThat(daily.notAfter()).isEqualTo(now.plus(Duration.ofHours(24)));
    assertThat(hourly.notAfter()).isEqualTo(now.plus(Duration.ofHours(1)));
  }

  @Test
  void keyUsagesAreForATlsClientAndServerAndNeverACa() throws Exception {
    X509Certificate leaf = ca.issue(validated(ME)).leaf();

    // digitalSignature (0) and keyEncipherment (2)
    assertThat(leaf.getKeyUsage())
        .containsExactly(true, false, true, false, false, false, false, false, false);
    assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
  }

  @Test
  void serialsAreRandomAndTheAuthorityKeyIdNamesTheRoot() throws Exception {
    X509Certificate first = ca.issue(validated(ME)).leaf();
    X509Certificate second = ca.issue(validated(ME)).leaf();

    assertThat(first.getSerialNumber()).isNotEqualTo(second.getSerialNumber()).isPositive();
    byte[] rootKeyId =
        SubjectKeyIdentifier.fromExtensions(new JcaX509CertificateHolder(ca.root()).getExtensions())
            .getKeyIdentifier();
    byte[] authorityKeyId =
        AuthorityKeyIdentifier.fromExtensions(new JcaX509CertificateHolder(first).getExtensions())
            .getKeyIdentifierObject()
            .getOctets();
    assertThat(authorityKeyId).isEqualTo(rootKeyId);
  }

  @Test
  void theChainVerifiesToItsRootWithTheJdksPkixValidator() throws Exception {
    CertificateChain chain = ca.issue(validated(ME));

    validate(chain.leaf(), ca.root(), clock.instant());
  }

  @Test
  void aCertificateFromAnotherCaDoesNotVerify() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);
    X509Certificate foreign = other.issue(validated(ME)).leaf();

    assertThatThrownBy(() -> validate(foreign, ca.root(), clock.instant()))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void anExpiredCertificateDoesNotVerify() throws Exception {
    CertificateChain chain = ca.issue(validated(ME));

    Instant justAfter = chain.notAfter().plusSeconds(1);
    assertThatThrownBy(() -> validate(chain.leaf(), ca.root(), justAfter))
        .isInstanceOf(CertPathValidatorException.class)
        .hasCauseInstanceOf(java.security.cert.CertificateExpiredException.class);
    validate(chain.leaf(), ca.root(), chain.notAfter());
  }

  @Test
  void neverIssuesPastTheRootsOwnEnd() throws Exception {
    CertificateAuthority shortRoot =
        CertificateAuthority.create("conveyor.etl", Duration.ofHours(30), clock, TestCsrs.RANDOM);
    clock.advance(Duration.ofHours(20));

    CertificateChain chain = shortRoot.issue(validated(ME));

    assertThat(chain.notAfter()).isEqualTo(shortRoot.root().getNotAfter().toInstant());
    clock.advance(Duration.ofHours(10));
    assertThatThrownBy(() -> shortRoot.issue(validated(ME)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("the root is valid from");
  }

  @Test
  void refusesTtlsOutsideTheBound() {
    assertThatThrownBy(() -> ca.issue(validated(ME), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ca.issue(validated(ME), Duration.ofDays(31)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TTL must be in (0, PT720H]");
  }

  @Test
  void savedAndLoadedItIssuesCertificatesThatVerifyAgainstTheSavedRoot(@TempDir Path dir)
      throws Exception {
    Path folder = dir.resolve("ca");
    ca.save(folder);

    assertThat(Files.getPosixFilePermissions(folder.resolve("ca.key")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    CertificateAuthority loaded = CertificateAuthority.load(folder, clock, TestCsrs.RANDOM);
    X509Certificate savedRoot;
    try (InputStream in = Files.newInputStream(folder.resolve("ca.crt"))) {
      // Read with the JDK, not our own PEM code, so the file is standard PEM.
      savedRoot = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    assertThat(savedRoot).isEqualTo(ca.root());
    validate(loaded.issue(validated(ME)).leaf(), savedRoot, clock.instant());
  }

  @Test
  void neverOverwritesASavedCa(@TempDir Path dir) throws Exception {
    ca.save(dir);
    CertificateAuthority other =
        CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);

    assertThatThrownBy(() -> other.save(dir)).isInstanceOf(FileAlreadyExistsException.class);
    assertThat(CertificateAuthority.load(dir, clock, TestCsrs.RANDOM).root()).isEqualTo(ca.root());
  }

  @Test
  void refusesToLoadAKeyThatIsNotTheRootsOrAMissingFile(@TempDir Path dir) throws Exception {
    Path mine = dir.resolve("mine");
    Path other = dir.resolve("other");
    ca.save(mine);
    CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM).save(other);
    Files.copy(
        other.resolve("ca.key"),
        mine.resolve("ca.key"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> CertificateAuthority.load(mine, clock, TestCsrs.RANDOM))
        .hasMessageContaining("ca.key: the key does not belong to");
    assertThatThrownBy(() -> CertificateAuthority.load(dir.resolve("none"), clock, TestCsrs.RANDOM))
        .isInstanceOf(NoSuchFileException.class);
    Files.writeString(other.resolve("ca.crt"), "not a certificate");
    assertThatThrownBy(() -> CertificateAuthority.load(other, clock, TestCsrs.RANDOM))
        .hasMessageContaining("ca.crt: expected a PEM certificate, found nothing");
  }

  @Test
  void refusesToLoadALeafAsACa(@TempDir Path dir) throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(TestCsrs.RANDOM);
    X509Certificate leaf = ca.issue(validated(ME, keyPair)).leaf();
    Files.writeString(dir.resolve("ca.crt"), Pem.write(leaf));
    Files.writeString(dir.resolve("ca.key"), Pem.write(keyPair.getPrivate()));

    assertThatThrownBy(() -> CertificateAuthority.load(dir, clock, TestCsrs.RANDOM))
        .hasMessageContaining("ca.crt: the certificate is not a CA");
  }

  @Test
  void asPemTextsItIssuesUnderTheSameRoot() throws Exception {
    CertificateAuthority restored =
        CertificateAuthority.fromPem(ca.rootPem(), ca.keyPem(), clock, TestCsrs.RANDOM);

    assertThat(restored.root()).isEqualTo(ca.root());
    // Standard PEM, readable by the JDK alone (a sidecar's trust bundle is read that way).
    X509Certificate parsed =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new java.io.ByteArrayInputStream(
                        ca.rootPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    assertThat(parsed).isEqualTo(ca.root());
    validate(restored.issue(validated(ME)).leaf(), ca.root(), clock.instant());
  }

  @Test
  void refusesPemTextsThatAreNotAMatchingCaPair() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);
    KeyPair keyPair = CertificateRequests.newKeyPair(TestCsrs.RANDOM);
    String leafPem = Pem.write(ca.issue(validated(ME, keyPair)).leaf());

    assertThatThrownBy(
            () ->
                CertificateAuthority.fromPem(ca.rootPem(), other.keyPem(), clock, TestCsrs.RANDOM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the CA key does not belong to the root certificate");
    assertThatThrownBy(
            () -> CertificateAuthority.fromPem("garbage", ca.keyPem(), clock, TestCsrs.RANDOM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the root certificate: ");
    assertThatThrownBy(
            () -> CertificateAuthority.fromPem(ca.rootPem(), ca.rootPem(), clock, TestCsrs.RANDOM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the CA key: ");
    assertThatThrownBy(
            () ->
                CertificateAuthority.fromPem(
                    leafPem, Pem.write(keyPair.getPrivate()), clock, TestCsrs.RANDOM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the root certificate is not a CA");
  }

  static ValidatedCsr validated(WorkloadIdentity identity) throws CsrRejectedException {
    return validated(identity, CertificateRequests.newKeyPair(TestCsrs.RANDOM));
  }

  static ValidatedCsr validated(WorkloadIdentity identity, KeyPair keyPair)
      throws CsrRejectedException {
    return new CsrValidator().validate(CertificateRequests.csrFor(identity, keyPair), identity);
  }

  /** PKIX path validation by the JDK, at {@code at}, with {@code root} the only anchor. */
  static void validate(X509Certificate leaf, X509Certificate root, Instant at) throws Exception {
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(at));
    CertPathValidator.getInstance("PKIX")
        .validate(
            CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
  }
}

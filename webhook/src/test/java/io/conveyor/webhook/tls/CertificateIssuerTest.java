package io.conveyor.webhook.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.webhook.testing.TestTls;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CertificateIssuerTest {

  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private final TlsSettings settings = TestTls.settings(TlsSettings.Store.MEMORY);
  private final CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());

  @Test
  void aNewCaSignsAServingCertificateForEveryServiceName() throws Exception {
    TlsMaterial material = issuer.issueAll(NOW, settings);

    assertThat(material.caCertificate().getBasicConstraints()).isEqualTo(0);
    assertThat(material.caCertificate().getNotAfter().toInstant())
        .isEqualTo(NOW.plus(TestTls.CA_VALIDITY));
    material.certificate().verify(material.caCertificate().getPublicKey());
    assertThat(material.certificate().getBasicConstraints()).isEqualTo(-1);
    assertThat(material.certificate().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(RenewalPolicy.subjectAlternativeNames(material.certificate()))
        .containsExactlyElementsOf(settings.dnsNames());
    assertThat(material.certificate().getNotBefore().toInstant())
        .isEqualTo(NOW.minus(CertificateIssuer.BACKDATE));
    assertThat(material.certificate().getNotAfter().toInstant())
        .isEqualTo(NOW.plus(TestTls.CERT_VALIDITY));
    assertThat(material.trustBundle()).containsExactly(material.caCertificate());
    assertThat(RenewalPolicy.of(settings).evaluate(material, NOW, settings.dnsNames()).action())
        .isEqualTo(RenewalPolicy.Action.KEEP);
  }

  /** The CA as the webhook has always made it: its name, its window, what it may sign. */
  @Test
  void theCaIsSelfSignedNamedAfterTheNamespaceAndBackdatedForClockSkew() throws Exception {
    X509Certificate ca = issuer.issueAll(NOW, settings).caCertificate();

    ca.verify(ca.getPublicKey());
    assertThat(ca.getSubjectX500Principal().getName())
        .isEqualTo("CN=conveyor-webhook-ca." + settings.namespace() + "." + NOW.getEpochSecond())
        .isEqualTo(ca.getIssuerX500Principal().getName());
    assertThat(ca.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(5)));
    assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(ca.getSigAlgName()).isEqualTo("SHA256withECDSA");
    // keyCertSign (5) and cRLSign (6), nothing else
    assertThat(ca.getKeyUsage())
        .containsExactly(false, false, false, false, false, true, true, false, false);
  }

  @Test
  void renewingTheCertificateKeepsTheCa() throws Exception {
    TlsMaterial first = issuer.issueAll(NOW, settings);

    TlsMaterial renewed = issuer.renewCertificate(first, NOW.plus(Duration.ofDays(70)), settings);

    assertThat(renewed.caCertificate()).isEqualTo(first.caCertificate());
    assertThat(renewed.certificate().getSerialNumber())
        .isNotEqualTo(first.certificate().getSerialNumber());
    renewed.certificate().verify(first.caCertificate().getPublicKey());
    assertThat(renewed.trustBundle()).containsExactly(first.caCertificate());
  }

  @Test
  void renewingTheCaKeepsTheOldCaTrustedUntilItExpires() throws Exception {
    TlsMaterial first = issuer.issueAll(NOW, settings);
    Instant later = NOW.plus(TestTls.CA_VALIDITY).minus(Duration.ofDays(60));

    TlsMaterial renewed = issuer.renewCa(first, later, settings);

    assertThat(renewed.caCertificate()).isNotEqualTo(first.caCertificate());
    renewed.certificate().verify(renewed.caCertificate().getPublicKey());
    assertThat(renewed.trustBundle())
        .containsExactly(renewed.caCertificate(), first.caCertificate());
    // Once the old CA has expired, it leaves the bundle at the next renewal.
    TlsMaterial afterExpiry =
        issuer.renewCertificate(
            renewed, NOW.plus(TestTls.CA_VALIDITY).plus(Duration.ofDays(1)), settings);
    assertThat(afterExpiry.trustBundle()).containsExactly(renewed.caCertificate());
  }

  @Test
  void aServingCertificateNeverOutlivesItsCa() {
    TlsMaterial first = issuer.issueAll(NOW, settings);
    Instant nearCaExpiry = NOW.plus(TestTls.CA_VALIDITY).minus(Duration.ofDays(10));

    TlsMaterial renewed = issuer.renewCertificate(first, nearCaExpiry, settings);

    assertThat(renewed.certificate().getNotAfter()).isEqualTo(first.caCertificate().getNotAfter());
  }

  @Test
  void pemRoundTripsThroughTheSecretLayout() {
    TlsMaterial material = issuer.issueAll(NOW, settings);
    SecretCertificateStore store =
        new SecretCertificateStore(null, "conveyor-system", "conveyor-webhook-tls");

    TlsMaterial read = SecretCertificateStore.fromData(store.toSecret(material, null).getData());

    assertThat(read.certificate()).isEqualTo(material.certificate());
    assertThat(read.caCertificate()).isEqualTo(material.caCertificate());
    assertThat(read.key().getEncoded()).isEqualTo(material.key().getEncoded());
    assertThat(read.caKey().getEncoded()).isEqualTo(material.caKey().getEncoded());
    assertThat(read.trustBundle()).isEqualTo(material.trustBundle());
  }
}

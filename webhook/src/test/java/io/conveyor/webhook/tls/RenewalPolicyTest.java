package io.conveyor.webhook.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.webhook.testing.TestTls;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RenewalPolicyTest {

  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private final TlsSettings settings = TestTls.settings(TlsSettings.Store.MEMORY);
  private final CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());
  private final RenewalPolicy policy = RenewalPolicy.of(settings);
  private final TlsMaterial material = issuer.issueAll(NOW, settings);

  private RenewalPolicy.Action at(Instant when, TlsMaterial m, List<String> names) {
    return policy.evaluate(m, when, names).action();
  }

  @Test
  void theCertificateIsRenewedWhenLessThanRenewBeforeIsLeft() {
    Instant renewal = NOW.plus(TestTls.CERT_VALIDITY).minus(TestTls.RENEW_BEFORE);

    assertThat(at(renewal.minusSeconds(1), material, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.KEEP);
    assertThat(at(renewal.plusSeconds(1), material, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.RENEW_CERTIFICATE);
  }

  @Test
  void theCaIsRenewedWhenLessThanACertificateLifetimeIsLeft() {
    TlsMaterial late =
        issuer.renewCertificate(
            material,
            NOW.plus(TestTls.CA_VALIDITY).minus(TestTls.CERT_VALIDITY).minus(Duration.ofDays(1)),
            settings);
    Instant caRenewal = NOW.plus(TestTls.CA_VALIDITY).minus(TestTls.CERT_VALIDITY);

    assertThat(at(caRenewal.minusSeconds(1), late, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.KEEP);
    assertThat(at(caRenewal.plusSeconds(1), late, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.RENEW_CA);
  }

  @Test
  void aNewServiceNameMeansANewCertificate() {
    List<String> names = new ArrayList<>(settings.dnsNames());
    names.add("conveyor-webhook.other-namespace.svc");

    assertThat(at(NOW, material, names)).isEqualTo(RenewalPolicy.Action.RENEW_CERTIFICATE);
  }

  @Test
  void materialThatDoesNotHangTogetherIsReplacedWhole() {
    TlsMaterial other = issuer.issueAll(NOW, settings);
    TlsMaterial foreignCertificate =
        new TlsMaterial(
            material.caCertificate(),
            material.caKey(),
            other.certificate(),
            other.key(),
            material.trustBundle());
    TlsMaterial wrongKey =
        new TlsMaterial(
            material.caCertificate(),
            material.caKey(),
            material.certificate(),
            other.key(),
            material.trustBundle());

    assertThat(at(NOW, foreignCertificate, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.RENEW_CA);
    assertThat(at(NOW, wrongKey, settings.dnsNames())).isEqualTo(RenewalPolicy.Action.RENEW_CA);
  }

  @Test
  void anExpiredOldCaIsDroppedFromTheBundle() {
    TlsMaterial oldCa =
        issuer.issueAll(NOW.minus(TestTls.CA_VALIDITY).minus(Duration.ofDays(1)), settings);
    TlsMaterial withExpired =
        new TlsMaterial(
            material.caCertificate(),
            material.caKey(),
            material.certificate(),
            material.key(),
            List.of(material.caCertificate(), oldCa.caCertificate()));

    assertThat(at(NOW, withExpired, settings.dnsNames()))
        .isEqualTo(RenewalPolicy.Action.REBUILD_BUNDLE);
  }
}

package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.time.Instant;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;

class CertificateSigningTest {

  private static final Instant FROM = Instant.parse("2030-01-01T00:00:00Z");
  private static final Instant TO = Instant.parse("2031-01-01T00:00:00Z");

  @Test
  void aSelfSignedRootHasTheNameAndWindowItWasGivenAndSignsLeavesOnly() throws Exception {
    CertificateSigning.Root root =
        CertificateSigning.selfSignedRoot(new X500Name("CN=test root"), FROM, TO, TestCsrs.RANDOM);
    X509Certificate certificate = root.certificate();

    certificate.verify(certificate.getPublicKey());
    assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("CN=test root");
    assertThat(certificate.getIssuerX500Principal())
        .isEqualTo(certificate.getSubjectX500Principal());
    assertThat(certificate.getNotBefore().toInstant()).isEqualTo(FROM);
    assertThat(certificate.getNotAfter().toInstant()).isEqualTo(TO);
    assertThat(certificate.getBasicConstraints()).isZero();
    assertThat(certificate.getCriticalExtensionOIDs())
        .contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
    assertThat(certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
    assertThat(CertificateSigning.signatureAlgorithm(root.key())).isEqualTo("SHA256withECDSA");
    assertThat(certificate.getSigAlgName()).isEqualTo("SHA256withECDSA");
  }

  @Test
  void serialsArePositiveAndFitRfc5280() {
    for (int i = 0; i < 100; i++) {
      assertThat(CertificateSigning.serial(TestCsrs.RANDOM))
          .isPositive()
          .satisfies(serial -> assertThat(serial.toByteArray().length).isLessThanOrEqualTo(20));
    }
  }
}

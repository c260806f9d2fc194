package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.testkit.MutableClock;
import org.junit.jupiter.api.Test;

class PeerCertificatesTest {

  private final CertificateAuthority ca =
      CertificateAuthority.create("conveyor.etl", new MutableClock(), TestCsrs.RANDOM);

  @Test
  void readsTheIdentityOfAnIssuedCertificate() throws Exception {
    WorkloadIdentity me = WorkloadIdentity.of("shop", "web.0", "web");

    assertThat(PeerCertificates.identityOf(ca.issue(CertificateAuthorityTest.validated(me)).leaf()))
        .isEqualTo(me);
  }

  @Test
  void aCertificateWithoutAUriSanNamesNobody() {
    assertThatThrownBy(() -> PeerCertificates.identityOf(ca.root()))
        .isInstanceOf(IdentityFormatException.class)
        .hasMessageContaining("names 0 subject alternative names");
  }
}

package io.conveyor.webhook.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.webhook.testing.TestTls;
import java.security.SecureRandom;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ReloadableKeyManagerTest {

  private final TlsSettings settings = TestTls.settings(TlsSettings.Store.MEMORY);
  private final CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());

  @Test
  void withoutMaterialNoAliasIsOfferedSoHandshakesFail() {
    ReloadableKeyManager manager = new ReloadableKeyManager();

    assertThat(manager.chooseEngineServerAlias("EC", null, null)).isNull();
    assertThat(manager.currentCertificate()).isEmpty();
  }

  @Test
  void aHandshakeThatChoseAnAliasBeforeASwapStillGetsAMatchingKeyAndChain() {
    TlsMaterial first = issuer.issueAll(Instant.now(), settings);
    TlsMaterial second = issuer.issueAll(Instant.now(), settings);
    ReloadableKeyManager manager = new ReloadableKeyManager();
    manager.install(first.key(), first.certificate());
    String chosenBeforeSwap = manager.chooseEngineServerAlias("EC", null, null);

    manager.install(second.key(), second.certificate());

    assertThat(manager.getCertificateChain(chosenBeforeSwap)).containsExactly(first.certificate());
    assertThat(manager.getPrivateKey(chosenBeforeSwap)).isEqualTo(first.key());
    String chosenAfterSwap = manager.chooseEngineServerAlias("EC", null, null);
    assertThat(chosenAfterSwap).isNotEqualTo(chosenBeforeSwap);
    assertThat(manager.getCertificateChain(chosenAfterSwap)).containsExactly(second.certificate());
    assertThat(manager.chooseEngineServerAlias("RSA", null, null)).isNull();
  }
}

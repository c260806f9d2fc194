package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.testkit.MutableClock;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

/**
 * The issued key, chain and root load into the JDK's TLS machinery as they are: a key manager that
 * offers the chain, and a PKIX trust manager that accepts it (as client and as server) and refuses
 * a chain from another CA. The handshake over gRPC is a later step; this proves the formats.
 */
class TlsContextFormatsTest {

  private static final char[] NO_PASSWORD = new char[0];

  // The JDK's trust managers check validity against the real time, so the CA starts now.
  private final MutableClock clock = MutableClock.startingNow();
  private final CertificateAuthority ca =
      CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);
  private final WorkloadIdentity me = WorkloadIdentity.of("shop", "orders-0", "orders");

  @Test
  void anSslContextBuildsFromAnIssuedKeyAndChainWithTheRootAsTrust() throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(TestCsrs.RANDOM);
    CertificateChain chain = ca.issue(CertificateAuthorityTest.validated(me, keyPair));

    KeyManagerFactory keys = keyManagers(keyPair, chain);
    TrustManagerFactory trust = trustManagers(ca.root());
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), TestCsrs.RANDOM);

    X509KeyManager keyManager = (X509KeyManager) keys.getKeyManagers()[0];
    String serverAlias = keyManager.chooseServerAlias("EC", null, null);
    assertThat(serverAlias).isNotNull();
    assertThat(keyManager.getCertificateChain(serverAlias))
        .containsExactly(chain.leaf(), chain.root());
    assertThat(keyManager.chooseClientAlias(new String[] {"EC"}, null, null)).isNotNull();
    X509TrustManager trustManager = (X509TrustManager) trust.getTrustManagers()[0];
    X509Certificate[] presented = chain.asList().toArray(X509Certificate[]::new);
    trustManager.checkClientTrusted(presented, "EC");
    trustManager.checkServerTrusted(presented, "ECDHE_ECDSA");
    assertThat(trustManager.getAcceptedIssuers()).containsExactly(ca.root());
    assertThat(context.createSSLEngine().getSupportedProtocols()).contains("TLSv1.3");
  }

  @Test
  void theTrustManagerRefusesAChainFromAnotherCa() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);
    CertificateChain foreign = other.issue(CertificateAuthorityTest.validated(me));
    X509TrustManager trustManager =
        (X509TrustManager) trustManagers(ca.root()).getTrustManagers()[0];

    assertThatThrownBy(
            () ->
                trustManager.checkClientTrusted(
                    foreign.asList().toArray(X509Certificate[]::new), "EC"))
        .isInstanceOf(CertificateException.class);
  }

  private static KeyManagerFactory keyManagers(KeyPair keyPair, CertificateChain chain)
      throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(
        "workload",
        keyPair.getPrivate(),
        NO_PASSWORD,
        chain.asList().toArray(X509Certificate[]::new));
    KeyManagerFactory factory =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, NO_PASSWORD);
    return factory;
  }

  private static TrustManagerFactory trustManagers(X509Certificate root) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("conveyor-root", root);
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(store);
    return factory;
  }
}

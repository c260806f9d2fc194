package io.conveyor.examples.support;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateChain;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.KeyMaterial;
import io.conveyor.identity.tls.LiveKeyManager;
import io.conveyor.identity.tls.MutualTls;
import io.conveyor.identity.tls.PeerRule;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.identity.tls.TrustBundle;
import io.conveyor.identity.tls.WorkloadTrustManager;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

/**
 * A test client's side of mutual TLS under a test's own CA: a workload certificate issued through
 * the real CSR path, and channels that trust any workload of the trust domain, with or without a
 * certificate of their own (an attacker without credentials has none).
 */
public final class TestClientTls {

  private TestClientTls() {}

  /** A key generated here and a certificate for {@code identity}, as a sidecar enrols for one. */
  public static LiveKeyManager keysFor(CertificateAuthority ca, WorkloadIdentity identity)
      throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(new SecureRandom());
    CertificateChain chain =
        ca.issue(
            new CsrValidator().validate(CertificateRequests.csrFor(identity, keyPair), identity));
    LiveKeyManager manager = new LiveKeyManager();
    manager.update(new KeyMaterial(keyPair.getPrivate(), chain.asList()));
    return manager;
  }

  /** A channel to {@code 127.0.0.1:port} over mutual TLS, presenting {@code keys} if given. */
  public static NettyChannelBuilder channel(
      CertificateAuthority ca, String trustDomain, int port, Optional<LiveKeyManager> keys) {
    WorkloadTrustManager trust =
        new WorkloadTrustManager(
            () -> new TrustBundle(List.of(ca.root())),
            trustDomain,
            PeerRule.anyWorkloadOf(trustDomain),
            WorkloadTrustManager.Rejections.NONE);
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(MutualTls.client(keys, trust, TlsProvider.preferred()));
  }
}

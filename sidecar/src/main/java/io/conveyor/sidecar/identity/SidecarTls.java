package io.conveyor.sidecar.identity;

import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.CallerAuthorization;
import io.conveyor.identity.IdentityFormatException;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.KeyMaterial;
import io.conveyor.identity.tls.LiveKeyManager;
import io.conveyor.identity.tls.MutualTls;
import io.conveyor.identity.tls.PeerRule;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.identity.tls.TrustBundle;
import io.conveyor.identity.tls.TrustBundleFile;
import io.conveyor.identity.tls.WorkloadTrustManager;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.dataplane.PeerAccess;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The sidecar's side of mutual TLS: its workload certificate as every handshake presents it
 * (replaced in place at each renewal, so open streams keep going), the trust bundle file re-read
 * when the kubelet updates it, and the TLS contexts of each hop:
 *
 * <ul>
 *   <li>the peer port, which asks every caller for a client certificate (a call without one is
 *       refused UNAUTHENTICATED by {@link PeerAccess});
 *   <li>the router, which must name the control plane's service account;
 *   <li>enrolment, the same check with no client certificate yet;
 *   <li>another sidecar, which must name exactly the identity the router gave for it.
 * </ul>
 */
public final class SidecarTls {

  /** Peer contexts kept at most; a sidecar talks to a few dozen peers, not thousands. */
  private static final int MAX_PEER_CONTEXTS = 1024;

  private final TlsProvider provider;
  private final TrustBundleFile bundle;
  private final String trustDomain;
  private final LiveKeyManager keys = new LiveKeyManager();
  private final DeniedCalls denials;
  private final PeerRule routerRule;
  private final Map<String, SslContext> peerContexts = new ConcurrentHashMap<>();

  private SidecarTls(
      TlsProvider provider,
      TrustBundleFile bundle,
      String trustDomain,
      PeerRule routerRule,
      DeniedCalls denials) {
    this.provider = provider;
    this.bundle = bundle;
    this.trustDomain = trustDomain;
    this.routerRule = routerRule;
    this.denials = denials;
  }

  /**
   * Watches the trust bundle of {@code config}, which must name one. A file that holds no bundle
   * yet is not an error: every handshake fails, and says why, until it does (standalone, the router
   * creates its CA when it starts, maybe after the sidecar).
   */
  public static SidecarTls open(SidecarConfig config, MeterRegistry meters, Clock clock) {
    TrustBundleFile bundle =
        TrustBundleFile.watch(
            config
                .trustBundleFile()
                .orElseThrow(() -> new IllegalStateException("mutual TLS without a trust bundle")),
            clock,
            TrustBundleFile.DEFAULT_RECHECK);
    String domain = WorkloadIdentity.DEFAULT_TRUST_DOMAIN;
    return new SidecarTls(
        config.tlsProvider(),
        bundle,
        domain,
        PeerRule.serviceAccount(
            domain,
            config.routerServiceAccount().namespace(),
            config.routerServiceAccount().name()),
        new DeniedCalls(meters, "conveyor_sidecar", System::nanoTime));
  }

  /** Hands every later handshake the renewed certificate. */
  public void use(WorkloadCertificate certificate) {
    keys.update(new KeyMaterial(certificate.privateKey(), certificate.chain()));
  }

  /** Whether the sidecar holds a certificate to present. */
  public boolean hasCertificate() {
    return keys.current().isPresent();
  }

  /**
   * The trust bundle every handshake verifies against, as last read from its file; throws {@link
   * IllegalStateException} while the file holds none.
   */
  public Supplier<TrustBundle> trustBundle() {
    return bundle;
  }

  public TlsProvider provider() {
    return provider;
  }

  /**
   * The peer port. A certificate is asked of every caller and, when presented, must verify; a
   * caller without one completes the handshake so that it can be told UNAUTHENTICATED (and the
   * attempt counted) rather than see a reset: {@link PeerAccess} refuses every call it makes.
   */
  public SslContext peerServer() {
    return MutualTls.server(
        keys, trustManager(PeerRule.anyWorkloadOf(trustDomain)), ClientAuth.OPTIONAL, provider);
  }

  /** The router's coordinator: this sidecar's certificate, and the router's checked. */
  public SslContext routerClient() {
    return MutualTls.client(Optional.of(keys), trustManager(routerRule), provider);
  }

  /** Enrolment: no client certificate yet, the router's checked all the same. */
  public SslContext enrolmentClient() {
    return MutualTls.client(Optional.empty(), trustManager(routerRule), provider);
  }

  /**
   * Another sidecar, which must prove {@code identity}.
   *
   * @throws IllegalArgumentException when {@code identity} is not a workload identity (the router
   *     named none): nothing is sent to a peer that cannot be checked
   */
  public SslContext peerClient(String identity) {
    if (identity.isEmpty()) {
      throw new IllegalArgumentException(
          "the router named no identity for this sidecar: under mutual TLS nothing is sent to a"
              + " peer that cannot be checked");
    }
    WorkloadIdentity expected;
    try {
      expected = WorkloadIdentity.parse(identity);
    } catch (IdentityFormatException e) {
      throw new IllegalArgumentException(
          "the router named a malformed identity: " + e.getMessage());
    }
    if (peerContexts.size() >= MAX_PEER_CONTEXTS) {
      peerContexts.clear();
    }
    return peerContexts.computeIfAbsent(
        identity,
        id ->
            MutualTls.client(
                Optional.of(keys), trustManager(PeerRule.exactly(expected)), provider));
  }

  /** Who may forward batches to this sidecar, with refusals counted with the handshake ones. */
  public PeerAccess peerAccess() {
    return PeerAccess.mutualTls(new CallerAuthorization(trustDomain), denials);
  }

  public DeniedCalls denials() {
    return denials;
  }

  private WorkloadTrustManager trustManager(PeerRule rule) {
    return new WorkloadTrustManager(
        bundle,
        trustDomain,
        rule,
        (side, reason) ->
            denials.record("tls-handshake", side + "-certificate", "a TLS peer", reason));
  }
}

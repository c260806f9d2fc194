package io.conveyor.examples.bench.mesh;

import io.conveyor.examples.local.PortBlock;
import io.conveyor.identity.CertificateAuthority;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

/**
 * The mesh baseline's two proxies for one cross-pod call path, placed as Istio or Linkerd place
 * them: pod A's proxy takes the caller's plaintext h2c call (outbound), pod B's proxy receives it
 * from pod A's (inbound) and hands it to the application in h2c. Between the two proxies: mutual
 * TLS 1.3 with workload certificates from {@code ca}, or h2c when there is no CA (a plaintext
 * cluster, compared with plaintext sidecars).
 *
 * <pre>
 *   caller --h2c--> proxy A (outboundPort) --mTLS h2--> proxy B (inboundPort) --h2c--> upstream
 * </pre>
 */
public final class MeshPair implements AutoCloseable {

  private final MeshProxy outbound;
  private final MeshProxy inbound;
  private final boolean mutualTls;

  private MeshPair(MeshProxy outbound, MeshProxy inbound, boolean mutualTls) {
    this.outbound = outbound;
    this.inbound = inbound;
    this.mutualTls = mutualTls;
  }

  /**
   * Starts pod B's proxy in front of {@code upstreamPort}, then pod A's in front of it, each on a
   * free loopback port, with their files in {@code folder}. Either both run or neither does.
   */
  public static MeshPair start(
      Path haproxy, Path folder, Optional<CertificateAuthority> ca, int threads, int upstreamPort)
      throws IOException {
    Optional<MeshTlsFiles> tlsA = Optional.empty();
    Optional<MeshTlsFiles> tlsB = Optional.empty();
    if (ca.isPresent()) {
      MeshCertificates certificates = new MeshCertificates(ca.get(), folder, new SecureRandom());
      tlsA = Optional.of(certificates.issue("pod-a"));
      tlsB = Optional.of(certificates.issue("pod-b"));
    }
    PortBlock ports = PortBlock.allocate(2);
    MeshProxyConfig b =
        MeshProxyConfig.inbound("proxy-b", threads, ports.port(1), upstreamPort, tlsB);
    MeshProxyConfig a =
        MeshProxyConfig.outbound("proxy-a", threads, ports.port(0), ports.port(1), tlsA);
    MeshProxy inbound = MeshProxy.start(haproxy, b, folder);
    try {
      MeshProxy outbound = MeshProxy.start(haproxy, a, folder);
      return new MeshPair(outbound, inbound, ca.isPresent());
    } catch (IOException | RuntimeException e) {
      inbound.close();
      throw e;
    }
  }

  /** Where pod A's applications send calls meant for the upstream in pod B (h2c). */
  public int outboundPort() {
    return outbound.config().listenPort();
  }

  /** Pod B's proxy's port, which other pods' proxies reach (mutual TLS unless plaintext). */
  public int inboundPort() {
    return inbound.config().listenPort();
  }

  public boolean mutualTls() {
    return mutualTls;
  }

  /** Pod A's proxy, then pod B's. */
  public List<MeshProxy> proxies() {
    return List.of(outbound, inbound);
  }

  /** Stops both, whatever happens to the first. */
  @Override
  public void close() {
    try {
      outbound.close();
    } finally {
      inbound.close();
    }
  }
}

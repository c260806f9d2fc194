package io.conveyor.identity;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/** A workload certificate and the root that signed it, in the order TLS sends them. */
public record CertificateChain(X509Certificate leaf, X509Certificate root) {

  /** Leaf first, then the root, as a TLS key manager and the wire contract want them. */
  public List<X509Certificate> asList() {
    return List.of(leaf, root);
  }

  public Instant notAfter() {
    return leaf.getNotAfter().toInstant();
  }
}

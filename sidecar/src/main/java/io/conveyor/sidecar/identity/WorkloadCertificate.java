package io.conveyor.sidecar.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * What the sidecar holds after an enrolment: its private key (made in this process, never sent),
 * the chain the CA returned (leaf first) and the roots peers' chains must verify to. Immutable, so
 * a reader (a TLS handshake) always sees a key and the chain that goes with it.
 */
public record WorkloadCertificate(
    PrivateKey privateKey, List<X509Certificate> chain, List<X509Certificate> trustBundle) {

  public WorkloadCertificate {
    chain = List.copyOf(chain);
    trustBundle = List.copyOf(trustBundle);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain holds at least the leaf");
    }
    if (trustBundle.isEmpty()) {
      throw new IllegalArgumentException("a trust bundle holds at least one root");
    }
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  /** X.509 notAfter is inclusive: valid through that instant. */
  public boolean isExpiredAt(Instant now) {
    return now.isAfter(notAfter());
  }
}

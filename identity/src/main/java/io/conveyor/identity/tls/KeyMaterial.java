package io.conveyor.identity.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/** A private key and the certificate chain that goes with it, leaf first, as TLS presents them. */
public record KeyMaterial(PrivateKey privateKey, List<X509Certificate> chain) {

  public KeyMaterial {
    Objects.requireNonNull(privateKey, "privateKey");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a certificate chain holds at least the leaf");
    }
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }
}

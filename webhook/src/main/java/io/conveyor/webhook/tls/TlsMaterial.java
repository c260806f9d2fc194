package io.conveyor.webhook.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything the webhook's TLS needs, as kept in the Secret: the CA (certificate and key, to issue
 * serving certificates), the serving certificate and key, and the trust bundle published as the
 * webhook's {@code caBundle}: the current CA first, then earlier CAs that have not expired, so that
 * replicas still serving a certificate from the previous CA stay trusted during a CA rotation.
 */
public record TlsMaterial(
    X509Certificate caCertificate,
    PrivateKey caKey,
    X509Certificate certificate,
    PrivateKey key,
    List<X509Certificate> trustBundle) {

  public TlsMaterial {
    Objects.requireNonNull(caCertificate, "caCertificate");
    Objects.requireNonNull(caKey, "caKey");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(key, "key");
    trustBundle = List.copyOf(trustBundle);
  }

  /** The trust bundle in PEM, as the API server wants it in {@code caBundle} (base64 of this). */
  public String trustBundlePem() {
    return PemCodec.certificatesToPem(trustBundle);
  }

  /** {@code currentCa} followed by those of {@code earlier} that are still valid at {@code now}. */
  public static List<X509Certificate> bundle(
      X509Certificate currentCa, List<X509Certificate> earlier, Instant now) {
    List<X509Certificate> bundle = new ArrayList<>();
    bundle.add(currentCa);
    for (X509Certificate ca : earlier) {
      if (!ca.equals(currentCa)
          && !bundle.contains(ca)
          && ca.getNotAfter().toInstant().isAfter(now)) {
        bundle.add(ca);
      }
    }
    return bundle;
  }
}

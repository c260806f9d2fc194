package io.conveyor.webhook.tls;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides, from stored TLS material and the time, whether anything must be renewed. Pure: no clock,
 * no I/O.
 *
 * <p>The CA is renewed once less than a serving certificate's lifetime is left, so that no serving
 * certificate ever outlives its CA; the serving certificate is renewed {@code renewBefore} its
 * expiry or when the names it must carry changed.
 */
public record RenewalPolicy(Duration certValidity, Duration renewBefore) {

  /** What to do with the stored material. */
  public enum Action {
    KEEP,
    /** Same CA and certificate; the trust bundle lost an expired CA or lacks the current one. */
    REBUILD_BUNDLE,
    RENEW_CERTIFICATE,
    RENEW_CA
  }

  public record Decision(Action action, String reason) {}

  public static RenewalPolicy of(TlsSettings settings) {
    return new RenewalPolicy(settings.certValidity(), settings.renewBefore());
  }

  public Decision evaluate(TlsMaterial material, Instant now, List<String> dnsNames) {
    X509Certificate ca = material.caCertificate();
    X509Certificate certificate = material.certificate();
    if (!matches(ca.getPublicKey(), material.caKey())) {
      return new Decision(Action.RENEW_CA, "the CA key does not match the CA certificate");
    }
    if (!signedBy(certificate, ca) || !matches(certificate.getPublicKey(), material.key())) {
      return new Decision(
          Action.RENEW_CA, "the serving certificate and key do not belong to the stored CA");
    }
    Instant caExpiry = ca.getNotAfter().toInstant();
    if (Duration.between(now, caExpiry).compareTo(certValidity) < 0) {
      return new Decision(Action.RENEW_CA, "the CA expires at " + caExpiry);
    }
    Instant expiry = certificate.getNotAfter().toInstant();
    if (Duration.between(now, expiry).compareTo(renewBefore) < 0) {
      return new Decision(Action.RENEW_CERTIFICATE, "the serving certificate expires at " + expiry);
    }
    Set<String> missing = new HashSet<>(dnsNames);
    missing.removeAll(subjectAlternativeNames(certificate));
    if (!missing.isEmpty()) {
      return new Decision(
          Action.RENEW_CERTIFICATE, "the serving certificate lacks the names " + missing);
    }
    if (!material.trustBundle().equals(TlsMaterial.bundle(ca, material.trustBundle(), now))) {
      return new Decision(
          Action.REBUILD_BUNDLE, "the trust bundle holds an expired CA or lacks the current one");
    }
    return new Decision(Action.KEEP, "valid until " + expiry);
  }

  static List<String> subjectAlternativeNames(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          names.add(String.valueOf(san.get(1)));
        }
      }
    } catch (CertificateParsingException e) {
      return List.of();
    }
    return names;
  }

  private static boolean signedBy(X509Certificate certificate, X509Certificate ca) {
    try {
      certificate.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Whether a private key belongs to a public key: sign a challenge and verify it. */
  static boolean matches(PublicKey publicKey, PrivateKey privateKey) {
    if (!publicKey.getAlgorithm().equals(privateKey.getAlgorithm())) {
      return false;
    }
    String algorithm = publicKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    try {
      byte[] challenge = "conveyor-webhook key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}

package io.conveyor.identity;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The X.509 steps every Conveyor CA takes the same way, whatever it issues: making its self-signed
 * root, drawing serial numbers, signing. The Conveyor CA ({@link CertificateAuthority}) issues
 * workload certificates with them, the webhook its HTTPS serving certificates; each decides its own
 * names, validity windows and leaf extensions.
 */
public final class CertificateSigning {

  /** A self-signed CA: its certificate and the key that certificate names. */
  public record Root(X509Certificate certificate, PrivateKey key) {}

  private CertificateSigning() {}

  /**
   * A new EC P-256 key and a self-signed CA certificate for it, valid from {@code notBefore} to
   * {@code notAfter}: basic constraints CA with path length 0 (it signs leaf certificates only,
   * never another CA), key usage keyCertSign and cRLSign, and its subject key identifier.
   *
   * @throws IllegalStateException when BouncyCastle cannot build or sign it
   */
  public static Root selfSignedRoot(
      X500Name subject, Instant notBefore, Instant notAfter, SecureRandom random) {
    KeyPair keyPair = CertificateRequests.newKeyPair(random);
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  serial(random),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  subject,
                  keyPair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
      return new Root(sign(builder, keyPair.getPrivate()), keyPair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create the root certificate " + subject, e);
    }
  }

  /** The certificate {@code builder} describes, signed with {@code signer} (EC or RSA). */
  public static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder(signatureAlgorithm(signer)).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign", e);
    }
  }

  /** A random serial number: positive, non-zero, and at most 20 octets as RFC 5280 requires. */
  public static BigInteger serial(SecureRandom random) {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  static String signatureAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default ->
          throw new IllegalArgumentException("unsupported CA key type " + key.getAlgorithm());
    };
  }
}

package io.conveyor.webhook.tls;

import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CertificateSigning;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Makes the webhook's CA and serving certificates with BouncyCastle, through the steps it shares
 * with the Conveyor CA ({@link CertificateSigning}: the self-signed root, serials, signing). Keys
 * are ECDSA P-256: small, and fast to handshake with, which matters when the API server opens
 * connections under load. Times come from the caller, so tests decide what "now" is.
 */
public final class CertificateIssuer {

  /** Tolerance for clocks of the API server and the webhook that disagree a little. */
  static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final SecureRandom random;

  public CertificateIssuer(SecureRandom random) {
    this.random = random;
  }

  /** A new CA and a serving certificate it signed; the trust bundle holds the new CA only. */
  public TlsMaterial issueAll(Instant now, TlsSettings settings) {
    CertificateSigning.Root ca = newCa(now, settings);
    return withCertificate(ca.certificate(), ca.key(), List.of(ca.certificate()), now, settings);
  }

  /** A new CA, keeping the earlier CAs that are still valid in the trust bundle. */
  public TlsMaterial renewCa(TlsMaterial previous, Instant now, TlsSettings settings) {
    CertificateSigning.Root ca = newCa(now, settings);
    List<X509Certificate> earlier = new ArrayList<>(previous.trustBundle());
    earlier.add(0, previous.caCertificate());
    return withCertificate(
        ca.certificate(),
        ca.key(),
        TlsMaterial.bundle(ca.certificate(), earlier, now),
        now,
        settings);
  }

  /** A new serving certificate from the same CA; expired CAs leave the trust bundle. */
  public TlsMaterial renewCertificate(TlsMaterial previous, Instant now, TlsSettings settings) {
    return withCertificate(
        previous.caCertificate(),
        previous.caKey(),
        TlsMaterial.bundle(previous.caCertificate(), previous.trustBundle(), now),
        now,
        settings);
  }

  private TlsMaterial withCertificate(
      X509Certificate caCertificate,
      PrivateKey caKey,
      List<X509Certificate> bundle,
      Instant now,
      TlsSettings settings) {
    KeyPair server = CertificateRequests.newKeyPair(random);
    Instant notAfter = now.plus(settings.certValidity());
    if (notAfter.isAfter(caCertificate.getNotAfter().toInstant())) {
      notAfter = caCertificate.getNotAfter().toInstant();
    }
    X509Certificate certificate =
        servingCertificate(server, caCertificate, caKey, settings.dnsNames(), now, notAfter);
    return new TlsMaterial(caCertificate, caKey, certificate, server.getPrivate(), bundle);
  }

  /** A new CA, named after the webhook's namespace and its creation time (rotations differ). */
  private CertificateSigning.Root newCa(Instant now, TlsSettings settings) {
    X500Name subject =
        new X500Name("CN=conveyor-webhook-ca." + settings.namespace() + "." + now.getEpochSecond());
    return CertificateSigning.selfSignedRoot(
        subject, now.minus(BACKDATE), now.plus(settings.caValidity()), random);
  }

  private X509Certificate servingCertificate(
      KeyPair server,
      X509Certificate ca,
      PrivateKey caKey,
      List<String> dnsNames,
      Instant now,
      Instant notAfter) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  ca,
                  CertificateSigning.serial(random),
                  Date.from(now.minus(BACKDATE)),
                  Date.from(notAfter),
                  new X500Name("CN=" + dnsNames.get(dnsNames.size() > 2 ? 2 : 0)),
                  server.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
              .addExtension(
                  Extension.subjectAlternativeName, false, subjectAlternativeNames(dnsNames))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(server.getPublic()))
              .addExtension(
                  Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
      return CertificateSigning.sign(builder, caKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create the serving certificate", e);
    }
  }

  private static GeneralNames subjectAlternativeNames(List<String> names) {
    List<GeneralName> general = new ArrayList<>();
    for (String name : names) {
      if (IPV4.matcher(name).matches() || name.contains(":")) {
        try {
          general.add(
              new GeneralName(
                  GeneralName.iPAddress,
                  new DEROctetString(InetAddress.getByName(name).getAddress())));
        } catch (UnknownHostException e) {
          throw new IllegalArgumentException("'" + name + "' is not an IP address", e);
        }
      } else {
        general.add(new GeneralName(GeneralName.dNSName, name));
      }
    }
    return new GeneralNames(general.toArray(GeneralName[]::new));
  }
}

package io.conveyor.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
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
 * The Conveyor CA: a self-signed EC P-256 root and its key, which issues short-lived workload
 * certificates for CSRs that {@link CsrValidator} accepted. "Now" comes from the injected clock, so
 * tests decide validity windows exactly.
 *
 * <p>Where it lives is the caller's choice: a Secret in a cluster (the operator stores the PEM
 * texts), a folder standalone ({@link #save}, {@link #load}).
 */
public final class CertificateAuthority {

  public static final Duration DEFAULT_ROOT_VALIDITY = Duration.ofDays(3650);
  public static final Duration DEFAULT_WORKLOAD_TTL = Duration.ofHours(24);

  /** Longest workload certificate it issues: short lives are the point of the design. */
  public static final Duration MAX_WORKLOAD_TTL = Duration.ofDays(30);

  /** Certificates start a minute back, so a peer whose clock is a little behind accepts them. */
  static final Duration BACKDATE = Duration.ofMinutes(1);

  static final String CERTIFICATE_FILE = "ca.crt";
  static final String KEY_FILE = "ca.key";

  private final X509Certificate root;
  private final PrivateKey key;
  private final Clock clock;
  private final SecureRandom random;

  private CertificateAuthority(
      X509Certificate root, PrivateKey key, Clock clock, SecureRandom random) {
    this.root = root;
    this.key = key;
    this.clock = clock;
    this.random = random;
  }

  /** A new root for {@code trustDomain}, valid for {@link #DEFAULT_ROOT_VALIDITY}. */
  public static CertificateAuthority create(String trustDomain, Clock clock, SecureRandom random) {
    return create(trustDomain, DEFAULT_ROOT_VALIDITY, clock, random);
  }

  public static CertificateAuthority create(
      String trustDomain, Duration validity, Clock clock, SecureRandom random) {
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("root validity must be positive, was " + validity);
    }
    // Reuse the identity rules for the trust domain, so a CA never issues under a bad one.
    new WorkloadIdentity(trustDomain, "probe", "probe", "probe");
    Instant now = clock.instant();
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.O, "Conveyor")
            .addRDN(BCStyle.OU, trustDomain)
            // Roots of successive CAs must be told apart in a trust bundle and in logs.
            .addRDN(BCStyle.CN, "Conveyor root CA " + now.getEpochSecond())
            .build();
    CertificateSigning.Root root =
        CertificateSigning.selfSignedRoot(subject, now.minus(BACKDATE), now.plus(validity), random);
    return new CertificateAuthority(root.certificate(), root.key(), clock, random);
  }

  /**
   * The CA saved in {@code folder} ({@code ca.crt}, {@code ca.key}), checked: the certificate must
   * be a CA and the key must be its key.
   *
   * @throws IOException when a file is missing or unreadable, or the pair is not a usable CA; the
   *     message names the file and the fault
   */
  public static CertificateAuthority load(Path folder, Clock clock, SecureRandom random)
      throws IOException {
    Path certificateFile = folder.resolve(CERTIFICATE_FILE);
    Path keyFile = folder.resolve(KEY_FILE);
    X509Certificate root;
    PrivateKey key;
    try {
      root = Pem.readCertificate(Files.readString(certificateFile, StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new IOException(certificateFile + ": " + e.getMessage(), e);
    }
    try {
      key = Pem.readPrivateKey(Files.readString(keyFile, StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new IOException(keyFile + ": " + e.getMessage(), e);
    }
    if (root.getBasicConstraints() < 0) {
      throw new IOException(certificateFile + ": the certificate is not a CA");
    }
    if (!holdsKeyOf(root, key)) {
      throw new IOException(keyFile + ": the key does not belong to " + certificateFile);
    }
    return new CertificateAuthority(root, key, clock, random);
  }

  /**
   * The CA from the PEM texts of {@link #rootPem()} and {@link #keyPem()} (as a Kubernetes Secret
   * holds them), checked as {@link #load} checks a folder.
   *
   * @throws IllegalArgumentException when either text is not PEM of the right kind, the certificate
   *     is not a CA, or the key is not its key; the message says which
   */
  public static CertificateAuthority fromPem(
      String rootPem, String keyPem, Clock clock, SecureRandom random) {
    X509Certificate root;
    PrivateKey key;
    try {
      root = Pem.readCertificate(rootPem);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the root certificate: " + e.getMessage(), e);
    }
    try {
      key = Pem.readPrivateKey(keyPem);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the CA key: " + e.getMessage(), e);
    }
    if (root.getBasicConstraints() < 0) {
      throw new IllegalArgumentException("the root certificate is not a CA");
    }
    if (!holdsKeyOf(root, key)) {
      throw new IllegalArgumentException("the CA key does not belong to the root certificate");
    }
    return new CertificateAuthority(root, key, clock, random);
  }

  /** The root as PEM text: the trust bundle, and half of what {@link #fromPem} reads. */
  public String rootPem() {
    return Pem.write(root);
  }

  /**
   * The CA's private key as unencrypted PKCS#8 PEM, for a store that protects it (a Secret). Never
   * log it.
   */
  public String keyPem() {
    return Pem.write(key);
  }

  /**
   * Writes {@code ca.crt} and {@code ca.key} into {@code folder} (made if missing). The key file is
   * created readable by its owner only, before any byte is written to it. An existing CA there is
   * never overwritten: certificates it issued would stop verifying.
   *
   * @throws FileAlreadyExistsException when either file exists
   */
  public void save(Path folder) throws IOException {
    Files.createDirectories(folder);
    Path certificateFile = folder.resolve(CERTIFICATE_FILE);
    Path keyFile = folder.resolve(KEY_FILE);
    for (Path file : new Path[] {certificateFile, keyFile}) {
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file.toString(), null, "a CA is already saved there");
      }
    }
    Files.createFile(
        keyFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(
        keyFile, Pem.write(key), StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    Files.writeString(
        certificateFile, Pem.write(root), StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
  }

  /** The root: what every peer trusts, and what goes in the trust bundle. */
  public X509Certificate root() {
    return root;
  }

  /** A workload certificate valid for {@link #DEFAULT_WORKLOAD_TTL}. */
  public CertificateChain issue(ValidatedCsr csr) {
    return issue(csr, DEFAULT_WORKLOAD_TTL);
  }

  /**
   * A workload certificate for the CSR's key and identity: the identity's URI SAN only, usable as
   * TLS client and server, from a minute ago to {@code now + ttl} (never past the root's own end).
   *
   * @throws IllegalArgumentException when {@code ttl} is not in (0, {@link #MAX_WORKLOAD_TTL}]
   * @throws IllegalStateException when the root has expired or is not valid yet
   */
  public CertificateChain issue(ValidatedCsr csr, Duration ttl) {
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_WORKLOAD_TTL) > 0) {
      throw new IllegalArgumentException(
          "workload certificate TTL must be in (0, " + MAX_WORKLOAD_TTL + "], was " + ttl);
    }
    Instant now = clock.instant();
    Instant rootNotAfter = root.getNotAfter().toInstant();
    if (!now.isBefore(rootNotAfter) || now.isBefore(root.getNotBefore().toInstant())) {
      throw new IllegalStateException(
          "the root is valid from "
              + root.getNotBefore().toInstant()
              + " to "
              + rootNotAfter
              + ", not at "
              + now);
    }
    Instant notAfter = now.plus(ttl);
    if (notAfter.isAfter(rootNotAfter)) {
      notAfter = rootNotAfter;
    }
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  root,
                  CertificateSigning.serial(random),
                  Date.from(now.minus(BACKDATE)),
                  Date.from(notAfter),
                  // SPIFFE X509-SVID style: the identity is the SAN; the subject stays empty.
                  new X500Name(new RDN[0]),
                  csr.publicKey())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              // RFC 5280 4.2.1.6: with an empty subject the SAN must be critical.
              .addExtension(
                  Extension.subjectAlternativeName,
                  true,
                  new GeneralNames(
                      new GeneralName(
                          GeneralName.uniformResourceIdentifier, csr.identity().toUri())))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  extensions.createSubjectKeyIdentifier(csr.publicKey()))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  extensions.createAuthorityKeyIdentifier(root));
      return new CertificateChain(CertificateSigning.sign(builder, key), root);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot sign a certificate for " + csr.identity(), e);
    }
  }

  private static boolean holdsKeyOf(X509Certificate certificate, PrivateKey key) {
    // Sign a probe and verify it with the certificate's key: works for EC and RSA alike.
    try {
      String algorithm = CertificateSigning.signatureAlgorithm(key);
      byte[] probe = "conveyor-ca-key-check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}

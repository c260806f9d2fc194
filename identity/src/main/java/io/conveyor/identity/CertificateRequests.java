package io.conveyor.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * What a sidecar enrols with: a key pair made in memory (the private key never leaves the process)
 * and a PKCS#10 request for exactly its workload identity. The request has an empty subject and one
 * URI SAN, which is all {@link CsrValidator} accepts.
 */
public final class CertificateRequests {

  private CertificateRequests() {}

  /** A new EC P-256 key pair: small, fast to handshake with, and what the CA issues under. */
  public static KeyPair newKeyPair(SecureRandom random) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      // Every Java 17 runtime ships secp256r1; without it nothing here can work.
      throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
    }
  }

  /** The DER of a CSR for {@code identity}, signed with the key pair's private key. */
  public static byte[] csrFor(WorkloadIdentity identity, KeyPair keyPair) {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          // RFC 5280: with an empty subject the SAN extension is critical.
          true,
          new GeneralNames(
              new GeneralName(GeneralName.uniformResourceIdentifier, identity.toUri())));
      return new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), keyPair.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
          .build(
              new JcaContentSignerBuilder(signatureAlgorithm(keyPair)).build(keyPair.getPrivate()))
          .getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException e) {
      throw new IllegalArgumentException("cannot sign a CSR with this key pair", e);
    }
  }

  private static String signatureAlgorithm(KeyPair keyPair) {
    return switch (keyPair.getPrivate().getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default ->
          throw new IllegalArgumentException(
              "cannot sign a CSR with a " + keyPair.getPrivate().getAlgorithm() + " key");
    };
  }
}

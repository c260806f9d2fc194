package io.conveyor.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
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

/** Real CSRs of every shape the validator must refuse, built with BouncyCastle. */
final class TestCsrs {

  static final SecureRandom RANDOM = new SecureRandom();

  private TestCsrs() {}

  static KeyPair keyPair(String algorithm, Object parameter) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      if (parameter instanceof Integer bits) {
        generator.initialize(bits, RANDOM);
      } else if (parameter instanceof String curve) {
        generator.initialize(new ECGenParameterSpec(curve), RANDOM);
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A CSR for {@code publicKey} with the given subject and SANs, signed by {@code signer}. */
  static byte[] csr(
      X500Name subject,
      PublicKey publicKey,
      PrivateKey signer,
      String signatureAlgorithm,
      GeneralName... sans) {
    try {
      JcaPKCS10CertificationRequestBuilder builder =
          new JcaPKCS10CertificationRequestBuilder(subject, publicKey);
      if (sans.length > 0) {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        builder.addAttribute(
            PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      }
      return builder
          .build(new JcaContentSignerBuilder(signatureAlgorithm).build(signer))
          .getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] csr(KeyPair keyPair, String signatureAlgorithm, GeneralName... sans) {
    return csr(emptySubject(), keyPair.getPublic(), keyPair.getPrivate(), signatureAlgorithm, sans);
  }

  static X500Name emptySubject() {
    return new X500Name(new RDN[0]);
  }

  static GeneralName uri(WorkloadIdentity identity) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, identity.toUri());
  }
}

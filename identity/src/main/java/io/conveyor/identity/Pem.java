package io.conveyor.identity;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM text for one certificate or one unencrypted PKCS#8 private key, both ways. */
final class Pem {

  private Pem() {}

  static String write(X509Certificate certificate) {
    return writeObject(certificate);
  }

  static String write(PrivateKey key) {
    try {
      return writeObject(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * @throws IllegalArgumentException when the text does not start with a PEM certificate
   */
  static X509Certificate readCertificate(String pem) {
    Object object = readObject(pem, "certificate");
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new IllegalArgumentException("expected a PEM certificate, found " + kind(object));
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not an X.509 certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a PKCS#8 ({@code PRIVATE KEY}) or traditional ({@code EC PRIVATE KEY}) key.
   *
   * @throws IllegalArgumentException when the text does not start with a PEM private key
   */
  static PrivateKey readPrivateKey(String pem) {
    Object object = readObject(pem, "private key");
    try {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("not a usable private key: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("expected a PEM private key, found " + kind(object));
  }

  private static Object readObject(String pem, String what) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return parser.readObject();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not a PEM " + what + ": " + e.getMessage(), e);
    }
  }

  private static String kind(Object object) {
    return object == null ? "nothing" : object.getClass().getSimpleName();
  }

  private static String writeObject(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}

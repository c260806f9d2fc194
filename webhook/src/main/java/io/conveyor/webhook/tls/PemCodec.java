package io.conveyor.webhook.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM encoding and decoding of certificates and private keys (PKCS#8), with BouncyCastle. */
public final class PemCodec {

  private PemCodec() {}

  public static String certificatesToPem(List<X509Certificate> certificates) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(certificate);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  public static String certificateToPem(X509Certificate certificate) {
    return certificatesToPem(List.of(certificate));
  }

  public static String privateKeyToPem(PrivateKey key) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /**
   * Every certificate in a PEM text, in order.
   *
   * @throws IllegalArgumentException when the text holds none or something else
   */
  public static List<X509Certificate> parseCertificates(String pem) {
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object;
      while ((object = parser.readObject()) != null) {
        if (!(object instanceof X509CertificateHolder holder)) {
          throw new IllegalArgumentException(
              "expected a certificate, found " + object.getClass().getSimpleName());
        }
        certificates.add(converter.getCertificate(holder));
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("no PEM certificate found");
    }
    return certificates;
  }

  public static X509Certificate parseCertificate(String pem) {
    return parseCertificates(pem).get(0);
  }

  /**
   * Parses a PKCS#8 ({@code PRIVATE KEY}) or traditional ({@code EC/RSA PRIVATE KEY}) PEM key.
   *
   * @throws IllegalArgumentException when the text is not a private key
   */
  public static PrivateKey parsePrivateKey(String pem) {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw new IllegalArgumentException(
          "expected a private key, found "
              + (object == null ? "nothing" : object.getClass().getSimpleName()));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a PEM private key: " + e.getMessage(), e);
    }
  }
}

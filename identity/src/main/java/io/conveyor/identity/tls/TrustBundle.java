package io.conveyor.identity.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The roots a peer's chain must lead to: the Conveyor CA's certificate, or several while a root is
 * being rotated (old and new side by side, as Istio and Linkerd publish them).
 */
public record TrustBundle(List<X509Certificate> roots) {

  /** A bundle larger than this is not a trust bundle (a ConfigMap holds at most 1 MiB anyway). */
  public static final int MAX_BYTES = 256 * 1024;

  public TrustBundle {
    roots = List.copyOf(roots);
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("a trust bundle holds at least one root certificate");
    }
  }

  /**
   * Reads the PEM certificates of a file.
   *
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException naming the file and what is wrong with its content
   */
  public static TrustBundle read(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_BYTES) {
      throw new IllegalArgumentException(
          file + " holds " + size + " bytes; a trust bundle is at most " + MAX_BYTES);
    }
    return parse(file.toString(), Files.readAllBytes(file));
  }

  /**
   * Parses PEM certificates ({@code -----BEGIN CERTIFICATE-----} blocks, one or more).
   *
   * @param source what the bytes are, for the error message
   * @throws IllegalArgumentException when they hold no certificate or a malformed one
   */
  public static TrustBundle parse(String source, byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    if (!text.contains("-----BEGIN CERTIFICATE-----")) {
      throw new IllegalArgumentException(source + " holds no PEM certificate");
    }
    Collection<? extends java.security.cert.Certificate> parsed;
    try {
      parsed =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem));
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          source + " holds a malformed certificate: " + e.getMessage(), e);
    }
    List<X509Certificate> roots = new ArrayList<>();
    for (java.security.cert.Certificate certificate : parsed) {
      roots.add((X509Certificate) certificate);
    }
    if (roots.isEmpty()) {
      throw new IllegalArgumentException(source + " holds no PEM certificate");
    }
    return new TrustBundle(roots);
  }
}

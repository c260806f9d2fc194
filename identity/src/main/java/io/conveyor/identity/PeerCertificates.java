package io.conveyor.identity;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/** Reads the workload identity a (chain-verified) peer certificate names. */
public final class PeerCertificates {

  // The GeneralName tag of a URI in the JDK's getSubjectAlternativeNames() lists.
  private static final int URI_TAG = 6;

  private PeerCertificates() {}

  /**
   * The one identity the certificate names. Conveyor issues exactly one URI SAN and nothing else,
   * so a certificate with more or other names is not one of ours and names nobody.
   *
   * @throws IdentityFormatException when the certificate does not name exactly one identity
   */
  public static WorkloadIdentity identityOf(X509Certificate certificate) {
    Collection<List<?>> names;
    try {
      names = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new IdentityFormatException("the certificate's SAN cannot be read: " + e.getMessage());
    }
    if (names == null || names.size() != 1) {
      throw new IdentityFormatException(
          "the certificate names "
              + (names == null ? 0 : names.size())
              + " subject alternative names; a workload certificate names exactly one URI");
    }
    List<?> name = names.iterator().next();
    if (!(name.get(0) instanceof Integer tag) || tag != URI_TAG) {
      throw new IdentityFormatException(
          "the certificate's subject alternative name is not a URI (type " + name.get(0) + ")");
    }
    return WorkloadIdentity.parse((String) name.get(1));
  }
}

package io.conveyor.identity;

import static io.conveyor.identity.CsrRejectedException.Reason.BAD_SIGNATURE;
import static io.conveyor.identity.CsrRejectedException.Reason.MALFORMED;
import static io.conveyor.identity.CsrRejectedException.Reason.NAME_MISMATCH;
import static io.conveyor.identity.CsrRejectedException.Reason.TOO_LARGE;
import static io.conveyor.identity.CsrRejectedException.Reason.WRONG_KEY_TYPE;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Decides whether a PKCS#10 request may be signed for the identity its requester proved. The checks
 * run cheapest first (size, then parse, then key type, then the signature, then the names), so an
 * oversized or foreign request costs no signature verification.
 *
 * <p>Only the request's SAN is read: every other extension it asks for is ignored, because the CA
 * writes its own (key usages, constraints), never the requester's.
 */
public final class CsrValidator {

  /** A P-256 CSR is about 300 bytes and an RSA-4096 one about 1.2 KiB; 8 KiB leaves room. */
  public static final int DEFAULT_MAX_BYTES = 8 * 1024;

  static final int RSA_MIN_BITS = 2048;

  private static final Set<ASN1ObjectIdentifier> ACCEPTED_SIGNATURES =
      Set.of(
          X9ObjectIdentifiers.ecdsa_with_SHA256,
          X9ObjectIdentifiers.ecdsa_with_SHA384,
          X9ObjectIdentifiers.ecdsa_with_SHA512,
          PKCSObjectIdentifiers.sha256WithRSAEncryption,
          PKCSObjectIdentifiers.sha384WithRSAEncryption,
          PKCSObjectIdentifiers.sha512WithRSAEncryption);

  private final int maxBytes;

  public CsrValidator() {
    this(DEFAULT_MAX_BYTES);
  }

  public CsrValidator(int maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("CSR size bound must be positive, was " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /**
   * Accepts {@code der} when it is a well-formed, self-signed request with an accepted key that
   * asks for exactly {@code authenticatedAs} and nothing else.
   *
   * @param authenticatedAs the identity the requester's credential proved (not what it claims)
   * @throws CsrRejectedException with the reason and what was wrong
   */
  public ValidatedCsr validate(byte[] der, WorkloadIdentity authenticatedAs)
      throws CsrRejectedException {
    requireSize(der);
    PKCS10CertificationRequest csr = parse(der);
    PublicKey publicKey = acceptedKey(csr.getSubjectPublicKeyInfo());
    verifySignature(csr, publicKey);
    requireExactly(authenticatedAs, csr);
    return new ValidatedCsr(authenticatedAs, publicKey);
  }

  /**
   * The identity a CSR asks for, read without checking its key or signature: what a certificate
   * service hands its enrolment verifier before it knows who the caller is. The result is a claim,
   * not a fact; {@link #validate} is still what decides. Bounded like {@code validate}: an
   * oversized request is not parsed.
   *
   * @throws CsrRejectedException TOO_LARGE or MALFORMED as {@code validate} would, or NAME_MISMATCH
   *     when the request does not ask for exactly one URI SAN that is a workload identity
   */
  public WorkloadIdentity requestedIdentity(byte[] der) throws CsrRejectedException {
    requireSize(der);
    PKCS10CertificationRequest csr = parse(der);
    List<String> uris = new ArrayList<>();
    for (GeneralName name : requestedNames(csr)) {
      if (name.getTagNo() == GeneralName.uniformResourceIdentifier) {
        uris.add(((ASN1String) name.getName()).getString());
      }
    }
    if (uris.size() != 1) {
      throw new CsrRejectedException(
          NAME_MISMATCH,
          "the CSR asks for "
              + uris.size()
              + " URI SANs; it must ask for exactly one, the requester's "
              + WorkloadIdentity.SCHEME_PREFIX
              + "<trust-domain>/ns/<namespace>/pod/<pod>/sa/<service-account>");
    }
    try {
      return WorkloadIdentity.parse(uris.get(0));
    } catch (IdentityFormatException e) {
      throw new CsrRejectedException(
          NAME_MISMATCH, "the CSR's URI SAN is not a workload identity: " + e.getMessage(), e);
    }
  }

  private void requireSize(byte[] der) throws CsrRejectedException {
    if (der == null || der.length == 0) {
      throw new CsrRejectedException(MALFORMED, "the CSR is empty");
    }
    if (der.length > maxBytes) {
      throw new CsrRejectedException(
          TOO_LARGE,
          "the CSR is " + der.length + " bytes, more than the " + maxBytes + " accepted");
    }
  }

  private static PKCS10CertificationRequest parse(byte[] der) throws CsrRejectedException {
    try {
      PKCS10CertificationRequest csr = new PKCS10CertificationRequest(der);
      // Reach into the parts now, so that a structurally odd request fails here as MALFORMED.
      csr.getSubject();
      csr.getSubjectPublicKeyInfo().getAlgorithm();
      return csr;
    } catch (IOException | RuntimeException e) {
      // BouncyCastle reports bad ASN.1 as IOException, IllegalArgumentException or
      // ClassCastException depending on where the structure breaks.
      throw new CsrRejectedException(
          MALFORMED, "the CSR is not a DER-encoded PKCS#10 request: " + e.getMessage(), e);
    }
  }

  private static PublicKey acceptedKey(SubjectPublicKeyInfo info) throws CsrRejectedException {
    ASN1ObjectIdentifier algorithm = info.getAlgorithm().getAlgorithm();
    String keyFactory;
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      keyFactory = "EC";
      ASN1Encodable curve = info.getAlgorithm().getParameters();
      if (!SECObjectIdentifiers.secp256r1.equals(curve)) {
        throw new CsrRejectedException(
            WRONG_KEY_TYPE, "the CSR's EC key is on curve " + curve + "; only P-256 is accepted");
      }
    } else if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      keyFactory = "RSA";
      int bits;
      try {
        bits = RSAPublicKey.getInstance(info.parsePublicKey()).getModulus().bitLength();
      } catch (IOException | RuntimeException e) {
        throw new CsrRejectedException(MALFORMED, "the CSR's RSA key cannot be read", e);
      }
      if (bits < RSA_MIN_BITS) {
        throw new CsrRejectedException(
            WRONG_KEY_TYPE,
            "the CSR's RSA key has " + bits + " bits; at least " + RSA_MIN_BITS + " are required");
      }
    } else {
      throw new CsrRejectedException(
          WRONG_KEY_TYPE,
          "the CSR's key algorithm "
              + algorithm.getId()
              + " is not accepted; use EC P-256 or RSA of at least "
              + RSA_MIN_BITS
              + " bits");
    }
    try {
      // The JDK's own key, so that the certificate the CA builds carries a standard encoding.
      return KeyFactory.getInstance(keyFactory)
          .generatePublic(new X509EncodedKeySpec(info.getEncoded()));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new CsrRejectedException(MALFORMED, "the CSR's public key is not valid", e);
    }
  }

  private static void verifySignature(PKCS10CertificationRequest csr, PublicKey publicKey)
      throws CsrRejectedException {
    ASN1ObjectIdentifier algorithm = csr.getSignatureAlgorithm().getAlgorithm();
    if (!ACCEPTED_SIGNATURES.contains(algorithm)) {
      throw new CsrRejectedException(
          BAD_SIGNATURE,
          "the CSR is signed with algorithm "
              + algorithm.getId()
              + "; only ECDSA or RSA PKCS#1 with SHA-256, -384 or -512 are accepted");
    }
    boolean valid;
    try {
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(publicKey));
    } catch (PKCSException | OperatorCreationException | RuntimeException e) {
      throw new CsrRejectedException(
          BAD_SIGNATURE, "the CSR's signature cannot be verified: " + e.getMessage(), e);
    }
    if (!valid) {
      throw new CsrRejectedException(
          BAD_SIGNATURE, "the CSR's signature does not verify with the key it carries");
    }
  }

  private static void requireExactly(WorkloadIdentity expected, PKCS10CertificationRequest csr)
      throws CsrRejectedException {
    if (csr.getSubject().getRDNs().length != 0) {
      throw new CsrRejectedException(
          NAME_MISMATCH,
          "the CSR asks for subject '"
              + csr.getSubject()
              + "'; leave the subject empty, the certificate names "
              + expected.toUri()
              + " in its SAN only");
    }
    List<String> uris = new ArrayList<>();
    for (GeneralName name : requestedNames(csr)) {
      if (name.getTagNo() != GeneralName.uniformResourceIdentifier) {
        throw new CsrRejectedException(
            NAME_MISMATCH,
            "the CSR asks for "
                + describe(name)
                + "; only the URI SAN "
                + expected.toUri()
                + " is issued");
      }
      uris.add(((ASN1String) name.getName()).getString());
    }
    if (uris.isEmpty()) {
      throw new CsrRejectedException(
          NAME_MISMATCH, "the CSR asks for no URI SAN; it must ask for " + expected.toUri());
    }
    if (uris.size() > 1) {
      throw new CsrRejectedException(
          NAME_MISMATCH,
          "the CSR asks for "
              + uris.size()
              + " URI SANs "
              + uris
              + "; it must ask for "
              + expected.toUri()
              + " only");
    }
    if (!uris.get(0).equals(expected.toUri())) {
      throw new CsrRejectedException(
          NAME_MISMATCH,
          "the CSR asks for " + uris.get(0) + " but the caller is " + expected.toUri());
    }
  }

  private static GeneralName[] requestedNames(PKCS10CertificationRequest csr)
      throws CsrRejectedException {
    Attribute[] requests = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    if (requests.length == 0) {
      return new GeneralName[0];
    }
    if (requests.length > 1 || requests[0].getAttrValues().size() != 1) {
      throw new CsrRejectedException(
          MALFORMED, "the CSR carries more than one extension request; it must carry one");
    }
    try {
      Extensions extensions = Extensions.getInstance(requests[0].getAttrValues().getObjectAt(0));
      GeneralNames names =
          GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
      return names == null ? new GeneralName[0] : names.getNames();
    } catch (RuntimeException e) {
      throw new CsrRejectedException(
          MALFORMED, "the CSR's extension request cannot be read: " + e.getMessage(), e);
    }
  }

  private static String describe(GeneralName name) {
    String kind =
        switch (name.getTagNo()) {
          case GeneralName.dNSName -> "DNS name";
          case GeneralName.iPAddress -> "IP address";
          case GeneralName.rfc822Name -> "email address";
          default -> "a SAN of type " + name.getTagNo();
        };
    return kind.startsWith("a SAN") ? kind : kind + " " + name.getName();
  }
}

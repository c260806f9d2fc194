package io.conveyor.router.identity;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The certificate service's meters, registered up front with every refusal reason, so that a reason
 * that has not happened yet reads 0 rather than being absent.
 */
final class CertificateMetrics {

  /** Why an enrolment was refused: the {@code reason} label, lower case. */
  enum Refusal {
    /** The request carried no credential (UNAUTHENTICATED). */
    NO_CREDENTIAL,
    /** The credential proved nothing (UNAUTHENTICATED). */
    UNAUTHENTICATED,
    /** The credential proved an identity that may not have this certificate. */
    PERMISSION_DENIED,
    /** The CSR asks for an identity under another trust domain than this CA's. */
    FOREIGN_TRUST_DOMAIN,
    /** The verifier or the CA could not answer now (UNAVAILABLE). */
    UNAVAILABLE,
    /** More enrolments at once than the service takes (RESOURCE_EXHAUSTED). */
    BUSY,
    /** The CSR is not a PKCS#10 request (INVALID_ARGUMENT). */
    MALFORMED,
    /** The CSR is over the size bound (INVALID_ARGUMENT). */
    TOO_LARGE,
    /** The CSR's key is not EC P-256 or RSA of at least 2048 bits (INVALID_ARGUMENT). */
    WRONG_KEY_TYPE,
    /** The CSR's self-signature does not verify (INVALID_ARGUMENT). */
    BAD_SIGNATURE,
    /** The CSR asks for other names than the proved identity (PERMISSION_DENIED). */
    NAME_MISMATCH;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  final Counter issued;
  private final Map<Refusal, Counter> refused = new EnumMap<>(Refusal.class);

  CertificateMetrics(MeterRegistry meters) {
    issued =
        Counter.builder("conveyor_router_certificates_issued_total")
            .description("Workload certificates the router's CA issued")
            .register(meters);
    for (Refusal reason : Refusal.values()) {
      refused.put(
          reason,
          Counter.builder("conveyor_router_certificates_refused_total")
              .description(
                  "Certificate requests refused, by reason: no_credential, unauthenticated,"
                      + " permission_denied, foreign_trust_domain, unavailable, busy (credential"
                      + " and capacity), malformed, too_large, wrong_key_type, bad_signature,"
                      + " name_mismatch (the CSR)")
              .tag("reason", reason.label())
              .register(meters));
    }
  }

  Counter refused(Refusal reason) {
    return refused.get(reason);
  }
}

package io.conveyor.router.identity;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.conveyor.etl.v1.CertificateServiceGrpc;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateChain;
import io.conveyor.identity.CsrRejectedException;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentVerifier;
import io.conveyor.identity.ValidatedCsr;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.router.identity.CertificateMetrics.Refusal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code conveyor.etl.v1.CertificateService}: the thin gRPC edge over the identity core. It reads
 * the identity the CSR claims, has the {@link EnrolmentVerifier} prove an identity from the
 * credential, validates the CSR against the proved identity (never the claimed one) and has the
 * {@link CertificateAuthority} sign it. Refusals are answered with the status identity.proto
 * documents, counted by reason and logged once; the credential itself is never logged.
 */
public final class CertificateIssuingService
    extends CertificateServiceGrpc.CertificateServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(CertificateIssuingService.class);

  /**
   * Issuances running at once. Each costs a signature check and a signature (and, in a cluster, a
   * TokenReview); past this the caller is told RESOURCE_EXHAUSTED and retries with backoff, so an
   * enrolment storm cannot take every server thread.
   */
  public static final int DEFAULT_MAX_CONCURRENT = 16;

  private final EnrolmentVerifier verifier;
  private final CsrValidator validator;
  private final CertificateAuthority authority;
  private final String trustDomain;
  private final Duration ttl;
  private final CertificateMetrics metrics;
  private final Semaphore permits;

  public CertificateIssuingService(
      EnrolmentVerifier verifier,
      CsrValidator validator,
      CertificateAuthority authority,
      String trustDomain,
      MeterRegistry meters) {
    this(
        verifier,
        validator,
        authority,
        trustDomain,
        CertificateAuthority.DEFAULT_WORKLOAD_TTL,
        DEFAULT_MAX_CONCURRENT,
        meters);
  }

  /**
   * @param trustDomain the only trust domain this CA issues under; a CSR for another is refused
   *     whatever the verifier says
   * @param ttl lifetime of each certificate issued
   * @param maxConcurrent issuances running at once before RESOURCE_EXHAUSTED
   */
  public CertificateIssuingService(
      EnrolmentVerifier verifier,
      CsrValidator validator,
      CertificateAuthority authority,
      String trustDomain,
      Duration ttl,
      int maxConcurrent,
      MeterRegistry meters) {
    if (maxConcurrent <= 0) {
      throw new IllegalArgumentException("maxConcurrent must be positive, was " + maxConcurrent);
    }
    this.verifier = verifier;
    this.validator = validator;
    this.authority = authority;
    this.trustDomain = trustDomain;
    this.ttl = ttl;
    this.metrics = new CertificateMetrics(meters);
    this.permits = new Semaphore(maxConcurrent);
  }

  @Override
  public void issueCertificate(
      IssueCertificateRequest request, StreamObserver<IssueCertificateResponse> response) {
    if (!permits.tryAcquire()) {
      response.onError(
          refuse(
              Refusal.BUSY,
              Status.RESOURCE_EXHAUSTED,
              null,
              "too many enrolments at once; retry with backoff"));
      return;
    }
    // The permit is given back before the answer leaves: a caller that has its answer and enrols
    // again at once must find it free (released after onCompleted, the next call could race it).
    IssueCertificateResponse issued;
    try {
      issued = issue(request);
    } catch (StatusRuntimeException e) {
      permits.release();
      response.onError(e);
      return;
    } catch (RuntimeException | Error e) {
      permits.release();
      throw e;
    }
    permits.release();
    response.onNext(issued);
    response.onCompleted();
  }

  private IssueCertificateResponse issue(IssueCertificateRequest request) {
    EnrolmentCredential credential = credentialOf(request);
    if (credential == null) {
      throw refuse(
          Refusal.NO_CREDENTIAL,
          Status.UNAUTHENTICATED,
          null,
          "the request carries no credential: send a service_account_token or a bootstrap_token");
    }
    byte[] der = request.getCsr().toByteArray();
    WorkloadIdentity requested;
    try {
      requested = validator.requestedIdentity(der);
    } catch (CsrRejectedException e) {
      // Nothing the CSR says can be trusted or issued: malformed whoever sends it.
      throw refuse(refusalOf(e), Status.INVALID_ARGUMENT, null, e.getMessage());
    }
    if (!requested.trustDomain().equals(trustDomain)) {
      throw refuse(
          Refusal.FOREIGN_TRUST_DOMAIN,
          Status.PERMISSION_DENIED,
          requested,
          "the CSR asks for trust domain '"
              + requested.trustDomain()
              + "'; this CA issues under '"
              + trustDomain
              + "' only");
    }
    WorkloadIdentity proved;
    try {
      proved = verifier.verify(credential, requested);
    } catch (EnrolmentRefusedException e) {
      throw switch (e.kind()) {
        case UNAUTHENTICATED ->
            refuse(Refusal.UNAUTHENTICATED, Status.UNAUTHENTICATED, requested, e.getMessage());
        case PERMISSION_DENIED ->
            refuse(Refusal.PERMISSION_DENIED, Status.PERMISSION_DENIED, requested, e.getMessage());
        case UNAVAILABLE ->
            refuse(Refusal.UNAVAILABLE, Status.UNAVAILABLE, requested, e.getMessage());
      };
    }
    ValidatedCsr validated;
    try {
      validated = validator.validate(der, proved);
    } catch (CsrRejectedException e) {
      Status status =
          e.reason() == CsrRejectedException.Reason.NAME_MISMATCH
              ? Status.PERMISSION_DENIED
              : Status.INVALID_ARGUMENT;
      throw refuse(refusalOf(e), status, requested, e.getMessage());
    }
    CertificateChain chain;
    try {
      chain = authority.issue(validated, ttl);
    } catch (IllegalStateException e) {
      // The root is expired or not yet valid: nothing the caller can fix, an operator must.
      log.error("the CA cannot issue a certificate for {}", proved, e);
      throw refuse(
          Refusal.UNAVAILABLE, Status.UNAVAILABLE, null, "the CA cannot issue certificates now");
    }
    metrics.issued.increment();
    log.debug("issued a certificate for {} valid until {}", proved, chain.notAfter());
    return IssueCertificateResponse.newBuilder()
        .addCertificateChain(der(chain.leaf()))
        .addCertificateChain(der(chain.root()))
        .addTrustBundle(der(authority.root()))
        .setNotAfter(timestamp(chain.notAfter()))
        .build();
  }

  private static EnrolmentCredential credentialOf(IssueCertificateRequest request) {
    return switch (request.getCredentialCase()) {
      case SERVICE_ACCOUNT_TOKEN ->
          new EnrolmentCredential.ServiceAccountToken(request.getServiceAccountToken());
      case BOOTSTRAP_TOKEN -> new EnrolmentCredential.BootstrapToken(request.getBootstrapToken());
      case CREDENTIAL_NOT_SET -> null;
    };
  }

  private static Refusal refusalOf(CsrRejectedException e) {
    return switch (e.reason()) {
      case WRONG_KEY_TYPE -> Refusal.WRONG_KEY_TYPE;
      case BAD_SIGNATURE -> Refusal.BAD_SIGNATURE;
      case NAME_MISMATCH -> Refusal.NAME_MISMATCH;
      case TOO_LARGE -> Refusal.TOO_LARGE;
      case MALFORMED -> Refusal.MALFORMED;
    };
  }

  /** Counts and logs a refusal once, and makes the status the caller is answered with. */
  private StatusRuntimeException refuse(
      Refusal reason, Status status, WorkloadIdentity requested, String message) {
    metrics.refused(reason).increment();
    // Warn where someone may be trying what they should not; info for what a healthy sidecar
    // meets now and then (a busy or unavailable CA).
    if (reason == Refusal.BUSY || reason == Refusal.UNAVAILABLE) {
      log.info(
          "certificate request for {} refused ({}): {}",
          requested == null ? "an unknown identity" : requested,
          reason.label(),
          message);
    } else {
      log.warn(
          "certificate request for {} refused ({}): {}",
          requested == null ? "an unknown identity" : requested,
          reason.label(),
          message);
    }
    return status.withDescription(message).asRuntimeException();
  }

  private static ByteString der(X509Certificate certificate) {
    try {
      return ByteString.copyFrom(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      // Certificates this process built or loaded always encode.
      throw new IllegalStateException("cannot encode a certificate", e);
    }
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }
}

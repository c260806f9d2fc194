package io.conveyor.sidecar.identity;

import com.google.protobuf.ByteString;
import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.CertificateServiceGrpc;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.RenewalSchedule;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.TrustBundle;
import io.conveyor.sidecar.identity.EnrolmentMetrics.Result;
import io.conveyor.sidecar.identity.SigningRequests.SigningRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Obtains and renews this sidecar's workload certificate from the Conveyor CA ({@code
 * conveyor.etl.v1.CertificateService/IssueCertificate} on the router channel).
 *
 * <p>Each enrolment makes a new P-256 key in memory (the first made ahead, {@link SigningRequests})
 * and sends only a CSR for the sidecar's identity, with the credential read afresh from its file.
 * The result is held as an immutable {@link WorkloadCertificate} snapshot that others read ({@link
 * #current()}) or are told of ({@link #onCertificate}). Renewal is due per {@link RenewalSchedule}
 * (about half-life); it is checked against the injected clock every {@code checkInterval} rather
 * than slept towards once, so that a suspended VM or a stepped clock does not postpone it.
 * Half-life is counted from when the certificate arrived, not from its {@code notBefore}: the CA
 * backdates that by a minute for clock skew, which for a certificate of seconds (tests, demos)
 * would put renewal in the past and renew in a loop.
 *
 * <p>Given the trust bundle ({@link #checkTrustAgainst}), each check also asks whether the held
 * certificate still chains to one of its roots. When the CA was replaced (a standalone router
 * restarted with a new CA folder), no peer accepts the old certificate any more, and waiting for
 * half-life (12 h by default) would leave the sidecar cut off: it enrols again at once, once per
 * trust bundle seen, so a CA that still issues under a root the bundle lacks is not asked in a
 * loop.
 *
 * <p>Failures: the CA down or not serving yet (UNAVAILABLE, UNIMPLEMENTED, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED) is retried with exponential backoff and jitter. A refusal (UNAUTHENTICATED,
 * PERMISSION_DENIED, INVALID_ARGUMENT) or an unreadable credential is warned about once per
 * distinct error and retried at the backoff's cap: the credential may be fixed or rotated. A failed
 * renewal keeps the old certificate until it expires, with a warning when renewal starts failing
 * and another once expiry is near.
 *
 * <p>Everything runs on the given scheduler, one step at a time (a step schedules the next); the
 * call itself is asynchronous with a deadline, so the scheduler thread never waits on the network.
 */
public final class CertificateEnroller implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CertificateEnroller.class);

  /** Distinct errors remembered for warn-once; more than this and the oldest are forgotten. */
  private static final int MAX_REMEMBERED_ERRORS = 32;

  /**
   * How the enroller paces itself.
   *
   * @param backoff retry delays; refusals wait at its cap
   * @param callTimeout deadline of one IssueCertificate call
   * @param checkInterval how often the clock is checked for a due renewal, and the held certificate
   *     against the trust bundle; never later than the renewal itself
   * @param expiryWarning how long before expiry a failing renewal warns again
   */
  public record Settings(
      Backoff backoff, Duration callTimeout, Duration checkInterval, Duration expiryWarning) {

    public static Settings defaults() {
      return new Settings(
          new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1), 2.0, 0.2),
          Duration.ofSeconds(10),
          // As often as the trust bundle file is re-read by default: a new root is acted on
          // within about twice that. A check is a clock comparison and, only when the bundle
          // changed, one signature verification.
          Duration.ofSeconds(10),
          Duration.ofHours(1));
    }
  }

  private final WorkloadIdentity identity;
  private final CredentialFile credential;
  private final CertificateServiceGrpc.CertificateServiceStub stub;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final RandomGenerator random;
  private final SigningRequests requests;
  private final EnrolmentMetrics metrics;
  private final Settings settings;
  private final List<Consumer<WorkloadCertificate>> listeners = new CopyOnWriteArrayList<>();
  private volatile Supplier<TrustBundle> trustBundle;

  private volatile WorkloadCertificate current;
  private volatile boolean everHeld;
  private volatile boolean closed;
  // The fields below are touched by one step at a time: each step is scheduled by the one before.
  private volatile ScheduledFuture<?> next;
  private RenewalSchedule renewal;
  private int failures;
  private final Set<String> warned = new HashSet<>();
  private boolean warnedRenewalFailing;
  private boolean warnedExpiryNear;
  // The last trust bundle the held certificate was checked against (and re-enrolled for, when it
  // did not chain to it).
  private TrustBundle checkedBundle;

  /**
   * @param requests the key pair and CSR of each enrolment, for the identity they name
   */
  public CertificateEnroller(
      SigningRequests requests,
      CredentialFile credential,
      Channel routerChannel,
      ScheduledExecutorService scheduler,
      Clock clock,
      RandomGenerator random,
      EnrolmentMetrics metrics,
      Settings settings) {
    this.requests = requests;
    this.identity = requests.identity();
    this.credential = credential;
    this.stub = CertificateServiceGrpc.newStub(routerChannel);
    this.scheduler = scheduler;
    this.clock = clock;
    this.random = random;
    this.metrics = metrics;
    this.settings = settings;
  }

  /** Enrols now, then keeps the certificate renewed until {@link #close()}. */
  public void start() {
    log.info("enrolling as {} with the {}", identity, credential);
    schedule(this::enrol, Duration.ZERO);
  }

  /** The certificate to present now: empty before the first enrolment and once it has expired. */
  public Optional<WorkloadCertificate> current() {
    WorkloadCertificate held = current;
    return held == null || held.isExpiredAt(clock.instant()) ? Optional.empty() : Optional.of(held);
  }

  /**
   * Told of every new certificate, on the enroller's thread: the sidecar puts it into its TLS
   * contexts.
   */
  public void onCertificate(Consumer<WorkloadCertificate> listener) {
    listeners.add(listener);
  }

  /**
   * Checks the held certificate against {@code bundle} (asked at each check; it may throw {@link
   * IllegalStateException} while there is none yet) and enrols again when it no longer chains to
   * any of its roots. Call before {@link #start()}.
   */
  public void checkTrustAgainst(Supplier<TrustBundle> bundle) {
    this.trustBundle = bundle;
  }

  /** Seconds until the held certificate expires (0 once it has), -1 before the first. */
  public double secondsToExpiry() {
    WorkloadCertificate held = current;
    if (held == null) {
      // An expired certificate is dropped by the enroller's thread when its renewal fails again,
      // at a moment of its own: still 0, not "never enrolled".
      return everHeld ? 0 : -1;
    }
    long millis = Duration.between(clock.instant(), held.notAfter()).toMillis();
    return Math.max(0, millis) / 1000.0;
  }

  @Override
  public void close() {
    closed = true;
    ScheduledFuture<?> pending = next;
    if (pending != null) {
      pending.cancel(false);
    }
  }

  private void enrol() {
    if (closed) {
      return;
    }
    IssueCertificateRequest.Builder request = IssueCertificateRequest.newBuilder();
    try {
      credential.addTo(request);
    } catch (NoSuchFileException e) {
      // Not there yet (a standalone router creates its bootstrap token when it starts): it will
      // be, so this is waited for like a router that does not answer yet.
      retry(Result.CREDENTIAL_UNREADABLE, "no " + credential + " yet");
      return;
    } catch (IOException e) {
      failed(Result.CREDENTIAL_UNREADABLE, "cannot read the " + credential + ": " + e.getMessage());
      return;
    }
    // The key and CSR may still be in the making (SigningRequests): the call goes out as a step of
    // its own once they are, so the scheduler's thread, which the data plane shares, never waits.
    requests
        .next(settings.callTimeout())
        .whenComplete(
            (signing, error) ->
                schedule(
                    () -> {
                      if (error != null) {
                        failed(Result.FAILED, "cannot make a key and CSR: " + error);
                      } else {
                        send(request, signing);
                      }
                    },
                    Duration.ZERO));
  }

  private void send(IssueCertificateRequest.Builder request, SigningRequest signing) {
    KeyPair keyPair = signing.keyPair();
    request.setCsr(ByteString.copyFrom(signing.csr()));
    stub.withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .issueCertificate(
            request.build(),
            new StreamObserver<>() {
              @Override
              public void onNext(IssueCertificateResponse response) {
                schedule(() -> issued(keyPair, response), Duration.ZERO);
              }

              @Override
              public void onError(Throwable error) {
                schedule(() -> refused(Status.fromThrowable(error)), Duration.ZERO);
              }

              @Override
              public void onCompleted() {}
            });
  }

  private void issued(KeyPair keyPair, IssueCertificateResponse response) {
    WorkloadCertificate certificate;
    try {
      certificate =
          new WorkloadCertificate(
              keyPair.getPrivate(),
              parse(response.getCertificateChainList()),
              parse(response.getTrustBundleList()));
      renewal =
          RenewalSchedule.forValidity(
              lifeStart(certificate, clock.instant()), certificate.notAfter(), clock, random);
    } catch (CertificateException | IllegalArgumentException e) {
      failed(Result.FAILED, "the CA answered with an unusable certificate: " + e.getMessage());
      return;
    }
    boolean renewed = current != null;
    current = certificate;
    everHeld = true;
    failures = 0;
    warned.clear();
    warnedRenewalFailing = false;
    warnedExpiryNear = false;
    metrics.attempted(Result.ISSUED);
    log.info(
        "{} as {}: certificate valid until {}, renewal at {}",
        renewed ? "renewed the certificate" : "enrolled",
        identity,
        certificate.notAfter(),
        renewal.renewAt());
    for (Consumer<WorkloadCertificate> listener : listeners) {
      try {
        listener.accept(certificate);
      } catch (RuntimeException e) {
        log.warn("a certificate listener failed: {}", e.toString());
      }
    }
    checkRenewal();
  }

  private void checkRenewal() {
    if (renewal.isDue() || issuedUnderAnotherRoot()) {
      enrol();
      return;
    }
    Duration wait = renewal.untilRenewal();
    schedule(
        this::checkRenewal,
        wait.compareTo(settings.checkInterval()) < 0 ? wait : settings.checkInterval());
  }

  private void refused(Status status) {
    String error = status.getCode() + ": " + status.getDescription();
    switch (status.getCode()) {
      case UNAVAILABLE, UNIMPLEMENTED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED ->
          retry(Result.UNAVAILABLE, "the CA cannot be reached or is busy: " + error);
      case UNAUTHENTICATED ->
          failed(Result.UNAUTHENTICATED, "the CA refused the " + credential + ": " + error);
      case PERMISSION_DENIED ->
          failed(
              Result.PERMISSION_DENIED, "the CA refused to issue for " + identity + ": " + error);
      case INVALID_ARGUMENT -> failed(Result.INVALID_ARGUMENT, "the CA refused the CSR: " + error);
      default -> failed(Result.FAILED, "enrolment failed: " + error);
    }
  }

  /**
   * True when the trust bundle changed since the last check and the held certificate chains to none
   * of its roots. Once per bundle: the certificate enrolled for it is not checked against it again.
   */
  private boolean issuedUnderAnotherRoot() {
    Supplier<TrustBundle> source = trustBundle;
    WorkloadCertificate held = current;
    if (source == null || held == null) {
      return false;
    }
    TrustBundle bundle;
    try {
      bundle = source.get();
    } catch (IllegalStateException e) {
      // No bundle (yet, or any more): nothing to check against; the handshakes say why.
      return false;
    }
    if (bundle.equals(checkedBundle)) {
      return false;
    }
    checkedBundle = bundle;
    if (chainsTo(held.leaf(), bundle)) {
      return false;
    }
    log.warn(
        "the certificate of {} was issued by {}, which the trust bundle no longer holds (the CA"
            + " was replaced): peers refuse it, so enrolling again now rather than at {}",
        identity,
        held.leaf().getIssuerX500Principal().getName(),
        renewal.renewAt());
    return true;
  }

  private static boolean chainsTo(X509Certificate leaf, TrustBundle bundle) {
    for (X509Certificate root : bundle.roots()) {
      if (!leaf.getIssuerX500Principal().equals(root.getSubjectX500Principal())) {
        continue;
      }
      try {
        leaf.verify(root.getPublicKey());
        return true;
      } catch (GeneralSecurityException e) {
        // Same name, another key: a root of the same name from another CA. Try the next.
      }
    }
    return false;
  }

  /**
   * Where the lifetime that renewal halves begins: when the certificate arrived, unless the clocks
   * disagree so much that it looks not yet valid or already expired here, then its {@code
   * notBefore}.
   */
  private static Instant lifeStart(WorkloadCertificate certificate, Instant now) {
    return now.isAfter(certificate.notBefore()) && now.isBefore(certificate.notAfter())
        ? now
        : certificate.notBefore();
  }

  /** A transient failure: retried with growing backoff. */
  private void retry(Result result, String error) {
    metrics.attempted(result);
    if (remember(error)) {
      log.info("{}; retrying with backoff", error);
    } else {
      log.debug("{}; retry {}", error, failures + 1);
    }
    keepingOld();
    schedule(this::enrol, settings.backoff().delay(failures++, random));
  }

  /** A refusal that only a changed credential or CA can fix: retried at the backoff's cap. */
  private void failed(Result result, String error) {
    metrics.attempted(result);
    if (remember(error)) {
      log.warn("{}; retrying every {} s", error, settings.backoff().max().toSeconds());
    } else {
      log.debug("{}; still retrying", error);
    }
    keepingOld();
    failures++;
    schedule(this::enrol, settings.backoff().delay(Integer.MAX_VALUE, random));
  }

  /** Warns about the certificate still held while renewal fails, until it expires. */
  private void keepingOld() {
    WorkloadCertificate held = current;
    if (held == null) {
      return;
    }
    Instant now = clock.instant();
    if (held.isExpiredAt(now)) {
      current = null;
      log.warn(
          "the certificate of {} expired at {} and could not be renewed: none until enrolment"
              + " succeeds",
          identity,
          held.notAfter());
    } else if (!warnedRenewalFailing) {
      warnedRenewalFailing = true;
      log.warn(
          "renewal of the certificate is failing; keeping the current one until it expires at {}",
          held.notAfter());
    } else if (!warnedExpiryNear
        && Duration.between(now, held.notAfter()).compareTo(settings.expiryWarning()) <= 0) {
      warnedExpiryNear = true;
      log.warn(
          "the certificate expires at {}, in {} s, and renewal is still failing",
          held.notAfter(),
          Duration.between(now, held.notAfter()).toSeconds());
    }
  }

  /** True the first time this error is seen since the last success. */
  private boolean remember(String error) {
    if (warned.size() >= MAX_REMEMBERED_ERRORS) {
      warned.clear();
    }
    return warned.add(error);
  }

  private void schedule(Runnable step, Duration delay) {
    if (closed) {
      return;
    }
    try {
      next =
          scheduler.schedule(
              () -> {
                try {
                  step.run();
                } catch (RuntimeException e) {
                  // A bug in a step must not end enrolment for good: retry as after any failure.
                  failed(Result.FAILED, "enrolment step failed: " + e);
                }
              },
              delay.toNanos(),
              TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The scheduler is shut down: the sidecar is closing.
      log.debug("enrolment stopped: the scheduler is shut down");
    }
  }

  private static List<X509Certificate> parse(List<ByteString> ders) throws CertificateException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> certificates = new ArrayList<>(ders.size());
    for (ByteString der : ders) {
      certificates.add(
          (X509Certificate)
              factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
    }
    return certificates;
  }
}

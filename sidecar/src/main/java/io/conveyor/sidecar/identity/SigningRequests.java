package io.conveyor.sidecar.identity;

import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.WorkloadIdentity;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Where the enroller gets each enrolment's P-256 key pair and CSR: a new key every time, the first
 * one possibly made ahead ({@link #prepareAhead}).
 *
 * <p>Why ahead: in a JVM that has just started, the key's generation and the CSR's signature are
 * elliptic-curve arithmetic in interpreted Java, with BouncyCastle's ASN.1 classes loaded and
 * initialised on the way — 60-70 ms on an idle core, more on a busy one — and the first enrolment
 * is on the path to the sidecar's readiness. The sidecar starts that work on a thread of its own
 * while it wires itself, so the first enrolment finds it done, or waits for it without holding a
 * thread. A key made ahead is used once, by the first enrolment that asks, and never leaves this
 * process.
 */
public final class SigningRequests {

  /** The name of the thread that makes a request ahead. */
  static final String AHEAD_THREAD = "sidecar-csr-ahead";

  /** A private key and the DER of a CSR signed with it. */
  public record SigningRequest(KeyPair keyPair, byte[] csr) {}

  private final WorkloadIdentity identity;
  private final Supplier<SigningRequest> maker;
  private final AtomicReference<CompletableFuture<SigningRequest>> ahead = new AtomicReference<>();

  public SigningRequests(WorkloadIdentity identity, SecureRandom random) {
    this(
        identity,
        () -> {
          KeyPair keyPair = CertificateRequests.newKeyPair(random);
          return new SigningRequest(keyPair, CertificateRequests.csrFor(identity, keyPair));
        });
  }

  /** With {@code maker} making each request (tests). */
  SigningRequests(WorkloadIdentity identity, Supplier<SigningRequest> maker) {
    this.identity = identity;
    this.maker = maker;
  }

  /** The identity every CSR names. */
  public WorkloadIdentity identity() {
    return identity;
  }

  /**
   * Starts making the next request now, on a daemon thread of its own that ends when it is done.
   * Does nothing when one is already made or being made.
   */
  public void prepareAhead() {
    CompletableFuture<SigningRequest> future = new CompletableFuture<>();
    if (!ahead.compareAndSet(null, future)) {
      return;
    }
    Thread thread =
        new Thread(
            () -> {
              try {
                future.complete(maker.get());
              } catch (RuntimeException | Error e) {
                future.completeExceptionally(e);
              }
            },
            AHEAD_THREAD);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * The next request: the one made ahead, when there is one, completing when it is made; else a new
   * one made on the caller's thread. Should making it ahead fail, or take longer than {@code bound}
   * (a starved or stuck thread), a new one is made instead, on the thread that noticed. Never the
   * same key twice.
   */
  public CompletableFuture<SigningRequest> next(Duration bound) {
    CompletableFuture<SigningRequest> prepared = ahead.getAndSet(null);
    return prepared == null
        ? makeHere()
        : prepared
            .orTimeout(bound.toMillis(), TimeUnit.MILLISECONDS)
            .exceptionallyCompose(failure -> makeHere());
  }

  private CompletableFuture<SigningRequest> makeHere() {
    try {
      return CompletableFuture.completedFuture(maker.get());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}

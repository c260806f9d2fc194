package io.conveyor.operator.identity;

import io.conveyor.etl.v1.IssueCertificateResponse;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the CA remembers: per pod UID, the last certificate it issued to that pod, for the
 * ConveyorSidecar's {@code CertificateValid} condition.
 *
 * <p>The certificate service (the router's {@code CertificateIssuingService}) knows the workload
 * identity it issues for, but not the pod UID the enrolment token was bound to; {@link
 * TokenReviewVerifier} knows the UID. {@link #interceptor()} joins the two within one call: it
 * gives each IssueCertificate call a holder in its gRPC {@link Context}, the verifier puts the pod
 * it proved there ({@link #verified}), and the response, when it goes out, is recorded under that
 * pod. A response is only ever sent after the verifier accepted, so nothing is recorded for a
 * refusal.
 *
 * <p>Bounded: at most {@code capacity} pods; past it the entry that expires first is dropped (its
 * condition then falls back on what the ConveyorSidecar's status recorded). Entries of deleted pods
 * are dropped by {@link #forget}.
 */
public final class IssuedCertificates {

  private static final Logger log = LoggerFactory.getLogger(IssuedCertificates.class);

  private static final Context.Key<AtomicReference<BoundPodToken>> VERIFIED_POD =
      Context.key("conveyor-verified-pod");

  private final int capacity;
  private final Map<String, IssuedCertificate> byPodUid = new ConcurrentHashMap<>();
  private volatile Consumer<ObjectReference> issuedTo = pod -> {};

  public IssuedCertificates(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, was " + capacity);
    }
    this.capacity = capacity;
  }

  /** Told the pod (namespace, name, UID) each time a certificate was issued to it. */
  public void onIssued(Consumer<ObjectReference> listener) {
    this.issuedTo = Objects.requireNonNull(listener);
  }

  public Optional<IssuedCertificate> lastIssuedTo(String podUid) {
    return podUid == null ? Optional.empty() : Optional.ofNullable(byPodUid.get(podUid));
  }

  /** The pod is gone: what was issued to it no longer matters. */
  public void forget(String podUid) {
    if (podUid != null) {
      byPodUid.remove(podUid);
    }
  }

  public int size() {
    return byPodUid.size();
  }

  /** Called by the verifier, within the call, once it proved the caller is {@code pod}. */
  void verified(BoundPodToken pod) {
    AtomicReference<BoundPodToken> holder = VERIFIED_POD.get();
    if (holder != null) {
      holder.set(pod);
    }
  }

  /** Goes around the CertificateService: records each certificate sent, under the proved pod. */
  public ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        AtomicReference<BoundPodToken> holder = new AtomicReference<>();
        ServerCall<Q, R> recording =
            new SimpleForwardingServerCall<>(call) {
              @Override
              public void sendMessage(R message) {
                BoundPodToken pod = holder.get();
                if (pod != null && message instanceof IssueCertificateResponse response) {
                  record(pod, response);
                }
                super.sendMessage(message);
              }
            };
        return Contexts.interceptCall(
            Context.current().withValue(VERIFIED_POD, holder), recording, headers, next);
      }
    };
  }

  private void record(BoundPodToken pod, IssueCertificateResponse response) {
    if (response.getCertificateChainCount() == 0) {
      return;
    }
    X509Certificate leaf;
    try {
      leaf =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(
                      new ByteArrayInputStream(response.getCertificateChain(0).toByteArray()));
    } catch (CertificateException e) {
      // The CA just encoded it; this cannot happen short of a broken JDK.
      log.warn("cannot read back the certificate issued to {}", pod.podName(), e);
      return;
    }
    IssuedCertificate issued =
        new IssuedCertificate(
            pod.podUid(),
            leaf.getSerialNumber().toString(16),
            leaf.getNotBefore().toInstant(),
            leaf.getNotAfter().toInstant());
    byPodUid.put(pod.podUid(), issued);
    evictOverCapacity();
    log.info(
        "issued certificate {} to pod {}/{} valid until {}",
        issued.serial(),
        pod.namespace(),
        pod.podName(),
        issued.notAfter());
    ObjectReference ref = new ObjectReference();
    ref.setNamespace(pod.namespace());
    ref.setName(pod.podName());
    ref.setUid(pod.podUid());
    issuedTo.accept(ref);
  }

  private void evictOverCapacity() {
    while (byPodUid.size() > capacity) {
      byPodUid.values().stream()
          .min(Comparator.comparing(IssuedCertificate::notAfter))
          .ifPresent(oldest -> byPodUid.remove(oldest.podUid(), oldest));
    }
  }
}

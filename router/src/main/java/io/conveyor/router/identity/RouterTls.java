package io.conveyor.router.identity;

import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.CallerAuthorization;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateChain;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrRejectedException;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.RenewalSchedule;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.KeyMaterial;
import io.conveyor.identity.tls.LiveKeyManager;
import io.conveyor.identity.tls.MutualTls;
import io.conveyor.identity.tls.PeerRule;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.identity.tls.TrustBundle;
import io.conveyor.identity.tls.WorkloadTrustManager;
import io.conveyor.router.grpc.CoordinatorAccess;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's side of mutual TLS, wherever its CA lives (a folder standalone, a Secret in the
 * operator): its own serving certificate, issued in-process by that CA and renewed at half-life;
 * the server TLS context of its port, which asks every client for a certificate but lets one
 * without enrol ({@link ClientAuth#OPTIONAL}); and the {@link CoordinatorAccess} that then requires
 * one for every SidecarCoordinator call.
 */
public final class RouterTls implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RouterTls.class);

  /** The namespace and service account the router's certificate names; sidecars check them. */
  public static final String CONTROL_PLANE_NAMESPACE = "conveyor-system";

  public static final String CONTROL_PLANE_SERVICE_ACCOUNT = "conveyor-operator";

  private final CertificateAuthority authority;
  private final WorkloadIdentity identity;
  private final Clock clock;
  private final SecureRandom random;
  private final LiveKeyManager keys = new LiveKeyManager();
  private final SslContext serverContext;
  private final CoordinatorAccess access;
  private final ScheduledExecutorService scheduler;
  private volatile ScheduledFuture<?> renewal;

  private RouterTls(
      CertificateAuthority authority,
      WorkloadIdentity identity,
      TlsProvider provider,
      DeniedCalls denials,
      ScheduledExecutorService scheduler,
      Clock clock,
      SecureRandom random) {
    this.authority = authority;
    this.identity = identity;
    this.clock = clock;
    this.random = random;
    this.scheduler = scheduler;
    String trustDomain = identity.trustDomain();
    WorkloadTrustManager trust =
        new WorkloadTrustManager(
            () -> new TrustBundle(List.of(authority.root())),
            trustDomain,
            PeerRule.anyWorkloadOf(trustDomain),
            (side, reason) ->
                denials.record("tls-handshake", side + "-certificate", "a TLS peer", reason));
    this.serverContext = MutualTls.server(keys, trust, ClientAuth.OPTIONAL, provider);
    this.access = CoordinatorAccess.mutualTls(new CallerAuthorization(trustDomain), denials);
  }

  /**
   * Issues the router's certificate now and keeps it renewed on {@code scheduler} until {@link
   * #close()}.
   *
   * @param identity what the router's certificate names: the operator's pod, in its namespace, as
   *     its service account (sidecars check the namespace and account, see {@code
   *     ROUTER_SERVICE_ACCOUNT})
   */
  public static RouterTls start(
      CertificateAuthority authority,
      WorkloadIdentity identity,
      TlsProvider provider,
      DeniedCalls denials,
      ScheduledExecutorService scheduler,
      Clock clock,
      SecureRandom random) {
    RouterTls tls = new RouterTls(authority, identity, provider, denials, scheduler, clock, random);
    tls.renew();
    log.info(
        "router serves mutual TLS ({}) as {}: SidecarCoordinator only to sidecars with a"
            + " certificate naming their pod",
        provider,
        identity.toUri());
    return tls;
  }

  /** The TLS context for the router's server builder. */
  public SslContext serverContext() {
    return serverContext;
  }

  /** Who may make which coordinator call. */
  public CoordinatorAccess access() {
    return access;
  }

  public WorkloadIdentity identity() {
    return identity;
  }

  private void renew() {
    try {
      KeyPair keyPair = CertificateRequests.newKeyPair(random);
      CertificateChain chain =
          authority.issue(
              new CsrValidator().validate(CertificateRequests.csrFor(identity, keyPair), identity));
      keys.update(new KeyMaterial(keyPair.getPrivate(), chain.asList()));
      RenewalSchedule schedule =
          RenewalSchedule.forValidity(
              chain.leaf().getNotBefore().toInstant(),
              chain.notAfter(),
              clock,
              new SplittableRandom());
      schedule(schedule.untilRenewal());
    } catch (CsrRejectedException | RuntimeException e) {
      // The CA is in this process: a failure here is a bug or a broken CA, retried once a minute.
      log.error("cannot renew the router's own certificate; retrying in a minute", e);
      schedule(Duration.ofMinutes(1));
    }
  }

  private void schedule(Duration delay) {
    if (!scheduler.isShutdown()) {
      renewal =
          scheduler.schedule(this::renew, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    ScheduledFuture<?> pending = renewal;
    if (pending != null) {
      pending.cancel(false);
    }
  }
}

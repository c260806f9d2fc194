package io.conveyor.router.standalone;

import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.router.grpc.CoordinatorAccess;
import io.conveyor.router.identity.BootstrapTokenVerifier;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.router.identity.RouterTls;
import io.conveyor.router.standalone.StandaloneRouterConfig.Security;
import io.conveyor.router.standalone.StandaloneRouterConfig.SecurityMode;
import io.grpc.BindableService;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the standalone router's security mode does to its port. In {@code mtls} mode: its CA (from
 * {@link CaFolder}) behind CertificateService, enrolling only callers with the bootstrap token;
 * mutual TLS on the port with the router's own certificate from that CA; SidecarCoordinator only to
 * sidecars whose certificate names the pod they claim. In {@code plaintext} mode: none of it, one
 * warning, and {@code conveyor_router_plaintext} = 1.
 */
public final class StandaloneSecurity {

  private static final Logger log = LoggerFactory.getLogger(StandaloneSecurity.class);

  /** The pod name the standalone router's certificate carries: there is no pod. */
  static final String STANDALONE_ROUTER = "standalone-router";

  private StandaloneSecurity() {}

  /**
   * What to add to the router's server.
   *
   * @param services to serve next to the coordinator
   * @param tls the port's TLS and the coordinator's access rules; empty in plaintext mode
   */
  public record Setup(List<BindableService> services, Optional<RouterTls> tls) {

    /** Applies the TLS context, if any, to the router's server builder. */
    public NettyServerBuilder secure(NettyServerBuilder builder) {
      tls.ifPresent(t -> builder.sslContext(t.serverContext()));
      return builder;
    }

    public CoordinatorAccess access() {
      return tls.map(RouterTls::access).orElseGet(CoordinatorAccess::open);
    }
  }

  /**
   * @param scheduler renews the router's own certificate
   * @throws IOException when the CA folder cannot be loaded or created (the message names it)
   */
  public static Setup setUp(
      Security security,
      MeterRegistry meters,
      Clock clock,
      SecureRandom random,
      ScheduledExecutorService scheduler)
      throws IOException {
    boolean plaintext = security.mode() == SecurityMode.PLAINTEXT;
    Gauge.builder("conveyor_router_plaintext", () -> plaintext ? 1 : 0)
        .description(
            "1 when the router was started with SECURITY_MODE=plaintext (no CA, no TLS, every"
                + " caller trusted), 0 when it serves mutual TLS under its CA")
        .register(meters);
    if (plaintext) {
      log.warn(
          "SECURITY_MODE=plaintext: this router runs no CA and no TLS; anyone who reaches its"
              + " port is trusted. Use it only where the network is yours alone.");
      return new Setup(List.of(), Optional.empty());
    }
    CaFolder folder =
        CaFolder.open(
            security.caDir(),
            security.bootstrapToken(),
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
            clock,
            random);
    log.info(
        "the CA issues sidecar certificates valid for {} s (CERTIFICATE_TTL_SECS)",
        security.certificateTtl().toSeconds());
    DeniedCalls denials = new DeniedCalls(meters, "conveyor_router", System::nanoTime);
    RouterTls tls =
        RouterTls.start(
            folder.authority(),
            new WorkloadIdentity(
                WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                RouterTls.CONTROL_PLANE_NAMESPACE,
                STANDALONE_ROUTER,
                RouterTls.CONTROL_PLANE_SERVICE_ACCOUNT),
            security.tlsProvider(),
            denials,
            scheduler,
            clock,
            random);
    return new Setup(
        List.of(
            new CertificateIssuingService(
                new BootstrapTokenVerifier(folder.bootstrapToken()),
                new CsrValidator(),
                folder.authority(),
                WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                security.certificateTtl(),
                CertificateIssuingService.DEFAULT_MAX_CONCURRENT,
                meters)),
        Optional.of(tls));
  }
}

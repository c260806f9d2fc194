package io.conveyor.router.standalone;

import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.router.identity.BootstrapTokenVerifier;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.router.standalone.StandaloneRouterConfig.Security;
import io.conveyor.router.standalone.StandaloneRouterConfig.SecurityMode;
import io.grpc.BindableService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the standalone router's security mode adds to its port: in {@code mtls} mode its CA (from
 * {@link CaFolder}) behind CertificateService, enrolling only callers with the bootstrap token; in
 * {@code plaintext} mode nothing, one warning, and {@code conveyor_router_plaintext} = 1.
 *
 * <p>This session the coordinator itself stays plaintext in both modes: serving mTLS on the port is
 * a later step, once sidecars enrol.
 */
public final class StandaloneSecurity {

  private static final Logger log = LoggerFactory.getLogger(StandaloneSecurity.class);

  private StandaloneSecurity() {}

  /**
   * @return the services to serve next to the coordinator
   * @throws IOException when the CA folder cannot be loaded or created (the message names it)
   */
  public static List<BindableService> services(
      Security security, MeterRegistry meters, Clock clock, SecureRandom random)
      throws IOException {
    boolean plaintext = security.mode() == SecurityMode.PLAINTEXT;
    Gauge.builder("conveyor_router_plaintext", () -> plaintext ? 1 : 0)
        .description(
            "1 when the router was started with SECURITY_MODE=plaintext (no CA, no certificates"
                + " issued), 0 when it runs its CA")
        .register(meters);
    if (plaintext) {
      log.warn(
          "SECURITY_MODE=plaintext: this router runs no CA and issues no certificates; anyone who"
              + " reaches its port is trusted. Use it only where the network is yours alone.");
      return List.of();
    }
    CaFolder folder =
        CaFolder.open(
            security.caDir(),
            security.bootstrapToken(),
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
            clock,
            random);
    return List.of(
        new CertificateIssuingService(
            new BootstrapTokenVerifier(folder.bootstrapToken()),
            new CsrValidator(),
            folder.authority(),
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
            meters));
  }
}

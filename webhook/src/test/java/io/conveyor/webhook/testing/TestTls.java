package io.conveyor.webhook.testing;

import io.conveyor.webhook.tls.TlsSettings;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** TLS settings for tests: the service names of the default deployment plus localhost. */
public final class TestTls {

  public static final Duration CA_VALIDITY = Duration.ofDays(1825);
  public static final Duration CERT_VALIDITY = Duration.ofDays(90);
  public static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private TestTls() {}

  public static TlsSettings settings(TlsSettings.Store store) {
    return new TlsSettings(
        store,
        "conveyor-system",
        "conveyor-webhook-tls",
        "conveyor-sidecar-injector",
        List.of(
            "conveyor-webhook",
            "conveyor-webhook.conveyor-system",
            "conveyor-webhook.conveyor-system.svc",
            "conveyor-webhook.conveyor-system.svc.cluster.local",
            "localhost"),
        CA_VALIDITY,
        CERT_VALIDITY,
        RENEW_BEFORE,
        Duration.ofSeconds(60),
        Optional.empty());
  }
}

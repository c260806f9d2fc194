package io.conveyor.webhook.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.TestTls;
import io.conveyor.webhook.testing.TlsClients;
import io.conveyor.webhook.tls.CertificateIssuer;
import io.conveyor.webhook.tls.ReloadableKeyManager;
import io.conveyor.webhook.tls.ServerTls;
import io.conveyor.webhook.tls.TlsMaterial;
import io.conveyor.webhook.tls.TlsSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

class WebhookHttpsServerTest {

  @Test
  void whenEveryWorkerIsBusyANewConnectionIsClosedAtOnceAndCounted() throws Exception {
    TlsMaterial material =
        new CertificateIssuer(new SecureRandom())
            .issueAll(Instant.now(), TestTls.settings(TlsSettings.Store.MEMORY));
    ReloadableKeyManager keys = new ReloadableKeyManager();
    keys.install(material.key(), material.certificate());
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch busy = new CountDownLatch(1);
    AtomicInteger rejected = new AtomicInteger();
    ServerSettings settings =
        new ServerSettings(
            "127.0.0.1", 0, 0, 1, 1, 1 << 20, Duration.ofSeconds(10), Duration.ZERO, 0, 0);
    SSLContext client = TlsClients.trusting(material.trustBundle());
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try (WebhookHttpsServer server =
        WebhookHttpsServer.start(
            new InetSocketAddress("127.0.0.1", 0),
            ServerTls.context(keys),
            settings,
            Map.of(
                "/slow",
                exchange -> {
                  busy.countDown();
                  try {
                    release.await(30, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  exchange.sendResponseHeaders(204, -1);
                  exchange.close();
                }),
            rejected::incrementAndGet)) {
      // The only worker is held by a slow request; the next connection waits in the queue.
      callers.submit(
          () -> TlsClients.post(TlsClients.client(client), server.port(), "/slow", new byte[0]));
      assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
      callers.submit(() -> TlsClients.presentedCertificate(client, server.port()));
      // Should a probe below reach the queue before that second connection (a slow machine), it
      // waits there and times out (5 s): not the refusal asked for, so it is tried again; by then
      // the queue is full for certain.
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                // A third connection finds worker and queue full: closed without a handshake.
                assertThatThrownBy(() -> TlsClients.presentedCertificate(client, server.port()))
                    .isInstanceOf(IOException.class)
                    .isNotInstanceOf(SocketTimeoutException.class);
                assertThat(rejected.get()).isPositive();
              });
      release.countDown();
    } finally {
      release.countDown();
      callers.shutdownNow();
    }
  }

  @Test
  void drainingReportsNotReadyWhileStillAnswering() {
    WebhookApp app =
        WebhookApp.start(
            Fixtures.config(Map.of("TLS_STORE", "memory", "HTTPS_PORT", "0", "METRICS_PORT", "0")),
            Optional.empty(),
            Clock.systemUTC(),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    try {
      await().atMost(Duration.ofSeconds(20)).until(app::isReady);

      app.startDraining();

      assertThat(TlsClients.get(app.adminPort(), "/readyz").statusCode()).isEqualTo(503);
      assertThat(TlsClients.get(app.adminPort(), "/readyz").body()).contains("shutting down");
      var response =
          TlsClients.post(
              TlsClients.client(
                  TlsClients.trusting(app.certificates().served().orElseThrow().trustBundle())),
              app.httpsPort(),
              "/mutate",
              Fixtures.bytes(Fixtures.review(Fixtures.rawPod("annotated"), "shop", false)));
      assertThat(response.statusCode()).isEqualTo(200);
    } finally {
      app.close();
    }
  }

  @Test
  void aFreshWebhookIsNotReadyUntilItsCertificateIsServed() {
    // The Kubernetes store with an API server that does not answer: TLS never becomes ready.
    var unreachable =
        new io.fabric8.kubernetes.client.KubernetesClientBuilder()
            .withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder()
                    .withMasterUrl("https://127.0.0.1:1")
                    .withRequestTimeout(500)
                    .withConnectionTimeout(500)
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
    WebhookApp app =
        WebhookApp.start(
            Fixtures.config(
                Map.of("TLS_STORE", "kubernetes", "HTTPS_PORT", "0", "METRICS_PORT", "0")),
            Optional.of(unreachable),
            Clock.systemUTC(),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  java.util.regex.Pattern.compile(
                          "(?m)^conveyor_webhook_tls_reconcile_failures_total [1-9]")
                      .matcher(TlsClients.get(app.adminPort(), "/metrics").body())
                      .find());
      assertThat(app.isReady()).isFalse();
      assertThat(TlsClients.get(app.adminPort(), "/readyz").statusCode()).isEqualTo(503);
      assertThat(TlsClients.get(app.adminPort(), "/healthz").statusCode()).isEqualTo(200);
      assertThatThrownBy(
              () -> TlsClients.presentedCertificate(SSLContext.getDefault(), app.httpsPort()))
          .isInstanceOf(IOException.class);
    } finally {
      app.close();
      unreachable.close();
    }
  }
}

package io.conveyor.webhook.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.testkit.MutableClock;
import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.TestTls;
import io.conveyor.webhook.testing.TlsClients;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TLS bootstrap and rotation against the fabric8 CRUD mock API server: the Secret shared by the
 * replicas, the caBundle of the MutatingWebhookConfiguration, rotation driven by an injected clock.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesTlsTest {

  private static final String NAMESPACE = "conveyor-system";
  private static final String SECRET = "conveyor-webhook-tls";
  private static final String WEBHOOK_CONFIGURATION = "conveyor-sidecar-injector";

  KubernetesClient client;

  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
  private final List<WebhookApp> apps = new ArrayList<>();

  @BeforeEach
  void installWebhookConfiguration() {
    createWebhookConfiguration();
  }

  @AfterEach
  void stopApps() {
    apps.forEach(WebhookApp::close);
  }

  private void createWebhookConfiguration() {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(WEBHOOK_CONFIGURATION)
                .endMetadata()
                .addNewWebhook()
                .withName("pod.inject.conveyor.etl")
                .withNewClientConfig()
                .withNewService()
                .withName("conveyor-webhook")
                .withNamespace(NAMESPACE)
                .withPath("/mutate")
                .endService()
                .endClientConfig()
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .endWebhook()
                .addNewWebhook()
                .withName("namespace.inject.conveyor.etl")
                .withNewClientConfig()
                .withNewService()
                .withName("conveyor-webhook")
                .withNamespace(NAMESPACE)
                .withPath("/mutate/namespace-enabled")
                .endService()
                .endClientConfig()
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .endWebhook()
                .build())
        .create();
  }

  private WebhookApp startApp() {
    WebhookApp app =
        WebhookApp.start(
            Fixtures.config(
                Map.of(
                    "TLS_STORE", "kubernetes",
                    "POD_NAMESPACE", NAMESPACE,
                    "HTTPS_PORT", "0",
                    "METRICS_PORT", "0",
                    "HTTP_THREADS", "2",
                    "TLS_EXTRA_DNS_NAMES", "localhost")),
            Optional.of(client),
            clock,
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    apps.add(app);
    return app;
  }

  private Secret secret() {
    return client.secrets().inNamespace(NAMESPACE).withName(SECRET).get();
  }

  private MutatingWebhookConfiguration webhookConfiguration() {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(WEBHOOK_CONFIGURATION)
        .get();
  }

  private List<X509Certificate> publishedBundle() {
    List<String> bundles =
        webhookConfiguration().getWebhooks().stream()
            .map(w -> w.getClientConfig().getCaBundle())
            .distinct()
            .toList();
    assertThat(bundles).hasSize(1);
    assertThat(bundles.get(0)).isNotNull();
    return PemCodec.parseCertificates(
        new String(Base64.getDecoder().decode(bundles.get(0)), StandardCharsets.US_ASCII));
  }

  private static String data(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.US_ASCII);
  }

  /** Posts an annotated pod, trusting only the caBundle the API server would use. */
  private JsonNode admitThroughPublishedBundle(WebhookApp app) {
    HttpResponse<String> response =
        TlsClients.post(
            TlsClients.client(TlsClients.trusting(publishedBundle(), clock.instant())),
            app.httpsPort(),
            "/mutate",
            Fixtures.bytes(Fixtures.review(Fixtures.rawPod("annotated"), "shop", false)));
    assertThat(response.statusCode()).isEqualTo(200);
    return Fixtures.parse(response.body().getBytes(StandardCharsets.UTF_8)).get("response");
  }

  private X509Certificate presented(WebhookApp app) throws Exception {
    return TlsClients.presentedCertificate(
        TlsClients.trusting(publishedBundle(), clock.instant()), app.httpsPort());
  }

  @Test
  void firstStartCreatesTheSecretPatchesTheCaBundleAndThenReportsReady() throws Exception {
    WebhookApp app = startApp();

    await().atMost(Duration.ofSeconds(20)).until(app::isReady);

    Secret secret = secret();
    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(secret.getData())
        .containsOnlyKeys("tls.crt", "tls.key", "ca.crt", "ca.key", "ca-bundle.crt");
    X509Certificate ca = PemCodec.parseCertificate(data(secret, "ca.crt"));
    X509Certificate served = PemCodec.parseCertificate(data(secret, "tls.crt"));
    assertThat(publishedBundle()).containsExactly(ca);
    assertThat(RenewalPolicy.subjectAlternativeNames(served))
        .contains(
            "conveyor-webhook",
            "conveyor-webhook.conveyor-system",
            "conveyor-webhook.conveyor-system.svc",
            "conveyor-webhook.conveyor-system.svc.cluster.local");
    assertThat(presented(app)).isEqualTo(served);
    assertThat(admitThroughPublishedBundle(app).path("patch").isTextual()).isTrue();
    assertThat(TlsClients.get(app.adminPort(), "/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void withoutItsWebhookConfigurationTheWebhookIsNotReadyUntilItAppears() {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(WEBHOOK_CONFIGURATION)
        .delete();
    await().until(() -> webhookConfiguration() == null);

    WebhookApp app = startApp();

    await().atMost(Duration.ofSeconds(10)).until(() -> secret() != null);
    assertThat(app.isReady()).isFalse();
    assertThat(TlsClients.get(app.adminPort(), "/readyz").statusCode()).isEqualTo(503);

    createWebhookConfiguration();

    await().atMost(Duration.ofSeconds(20)).until(app::isReady);
    assertThat(publishedBundle()).hasSize(1);
  }

  @Test
  void aSecondReplicaReusesTheSecretAndDoesNotRewriteTheCaBundle() throws Exception {
    WebhookApp first = startApp();
    await().atMost(Duration.ofSeconds(20)).until(first::isReady);
    String secretVersion = secret().getMetadata().getResourceVersion();
    String configurationVersion = webhookConfiguration().getMetadata().getResourceVersion();

    WebhookApp second = startApp();
    await().atMost(Duration.ofSeconds(20)).until(second::isReady);

    assertThat(presented(second)).isEqualTo(presented(first));
    assertThat(secret().getMetadata().getResourceVersion()).isEqualTo(secretVersion);
    assertThat(webhookConfiguration().getMetadata().getResourceVersion())
        .isEqualTo(configurationVersion);
  }

  @Test
  void anExpiringCertificateIsRotatedAndTheServerKeepsAnswering() throws Exception {
    WebhookApp app = startApp();
    WebhookApp other = startApp();
    await().atMost(Duration.ofSeconds(20)).until(() -> app.isReady() && other.isReady());
    X509Certificate before = presented(app);

    clock.advance(TestTls.CERT_VALIDITY.minus(TestTls.RENEW_BEFORE).plus(Duration.ofDays(1)));
    app.certificates().reconcile();

    X509Certificate after = presented(app);
    assertThat(after.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
    assertThat(after.getNotAfter().toInstant())
        .isEqualTo(clock.instant().plus(TestTls.CERT_VALIDITY));
    assertThat(PemCodec.parseCertificate(data(secret(), "tls.crt"))).isEqualTo(after);
    assertThat(admitThroughPublishedBundle(app).path("allowed").asBoolean()).isTrue();

    // The other replica picks the new certificate up from the Secret on its next pass, without
    // issuing one of its own.
    String secretVersion = secret().getMetadata().getResourceVersion();
    other.certificates().reconcile();
    assertThat(presented(other)).isEqualTo(after);
    assertThat(secret().getMetadata().getResourceVersion()).isEqualTo(secretVersion);
  }

  @Test
  void aCaRotationPublishesBothCasBeforeServingFromTheNewOne() throws Exception {
    WebhookApp app = startApp();
    await().atMost(Duration.ofSeconds(20)).until(app::isReady);
    X509Certificate oldCa = publishedBundle().get(0);

    clock.advance(TestTls.CA_VALIDITY.minus(TestTls.CERT_VALIDITY).plus(Duration.ofDays(1)));
    app.certificates().reconcile();

    List<X509Certificate> bundle = publishedBundle();
    assertThat(bundle).hasSize(2);
    assertThat(bundle.get(1)).isEqualTo(oldCa);
    X509Certificate served = presented(app);
    served.verify(bundle.get(0).getPublicKey());
    // A client that still only knows the old CA (a replica not yet reloaded is served from it)
    // keeps working because the old CA stays in the bundle.
    assertThat(admitThroughPublishedBundle(app).path("allowed").asBoolean()).isTrue();
  }

  @Test
  void anUnreadableSecretIsReplaced() {
    client
        .secrets()
        .inNamespace(NAMESPACE)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(SECRET)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withType("kubernetes.io/tls")
                .addToData(
                    "tls.crt",
                    Base64.getEncoder().encodeToString("garbage".getBytes(StandardCharsets.UTF_8)))
                .addToData(
                    "tls.key",
                    Base64.getEncoder().encodeToString("garbage".getBytes(StandardCharsets.UTF_8)))
                .build())
        .create();

    WebhookApp app = startApp();

    await().atMost(Duration.ofSeconds(20)).until(app::isReady);
    assertThat(secret().getData()).containsKey("ca.key");
    assertThat(publishedBundle())
        .containsExactly(PemCodec.parseCertificate(data(secret(), "ca.crt")));
  }

  @Test
  void replicasStartingTogetherEndUpServingTheSameCertificate() {
    TlsSettings settings = TestTls.settings(TlsSettings.Store.KUBERNETES);
    List<CertificateManager> managers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      managers.add(
          new CertificateManager(
              settings,
              new SecretCertificateStore(client, NAMESPACE, SECRET),
              new WebhookConfigurationCaBundlePublisher(client, WEBHOOK_CONFIGURATION),
              new CertificateIssuer(new SecureRandom()),
              new ReloadableKeyManager(),
              clock,
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
    }

    CompletableFuture.allOf(
            managers.stream()
                .map(m -> CompletableFuture.runAsync(m::reconcile))
                .toArray(CompletableFuture[]::new))
        .join();

    X509Certificate stored = PemCodec.parseCertificate(data(secret(), "tls.crt"));
    assertThat(managers)
        .allSatisfy(m -> assertThat(m.served().orElseThrow().certificate()).isEqualTo(stored));
    assertThat(webhookConfiguration().getWebhooks())
        .extracting(MutatingWebhook::getClientConfig)
        .allSatisfy(c -> assertThat(c.getCaBundle()).isNotNull());
    managers.forEach(CertificateManager::close);
  }
}

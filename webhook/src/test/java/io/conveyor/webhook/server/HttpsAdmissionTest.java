package io.conveyor.webhook.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.TlsClients;
import io.conveyor.webhook.tls.ServerTls;
import io.fabric8.zjsonpatch.JsonPatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook over real HTTPS, with certificates it generated itself (in-memory store): what the
 * API server would see.
 */
class HttpsAdmissionTest {

  private static WebhookApp app;
  private static HttpClient trusting;
  private static SSLContext trustingContext;

  @BeforeAll
  static void start() {
    app = Fixtures.startInMemoryApp();
    await().atMost(Duration.ofSeconds(20)).until(app::isReady);
    trustingContext = TlsClients.trusting(app.certificates().served().orElseThrow().trustBundle());
    trusting = TlsClients.client(trustingContext);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static HttpResponse<String> post(String path, byte[] body) {
    return TlsClients.post(trusting, app.httpsPort(), path, body);
  }

  private static JsonNode review(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode review = Fixtures.parse(response.body().getBytes(StandardCharsets.UTF_8));
    assertThat(review.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(review.path("kind").asText()).isEqualTo("AdmissionReview");
    return review.get("response");
  }

  @Test
  void anAnnotatedPodIsPatchedAndThePatchYieldsTheExpectedPod() {
    ObjectNode pod = Fixtures.rawPod("annotated");
    ObjectNode request = Fixtures.review(pod, "shop", false);

    JsonNode response = review(post("/mutate", Fixtures.bytes(request)));

    assertThat(response.path("uid").asText())
        .isEqualTo(request.path("request").path("uid").asText());
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = Fixtures.parse(Base64.getDecoder().decode(response.path("patch").asText()));
    assertThat(Fixtures.normalized(JsonPatch.apply(patch, pod)))
        .isEqualTo(Fixtures.normalized(Fixtures.rawPod("annotated.expected")));
  }

  @Test
  void theNamespacePathInjectsUnannotatedPodsAndThePodPathDoesNot() {
    ObjectNode pod = Fixtures.rawPod("plain");

    JsonNode viaNamespace =
        review(
            post("/mutate/namespace-enabled", Fixtures.bytes(Fixtures.review(pod, "shop", false))));
    JsonNode viaPod = review(post("/mutate", Fixtures.bytes(Fixtures.review(pod, "shop", false))));

    assertThat(viaNamespace.path("patch").isTextual()).isTrue();
    assertThat(viaPod.path("allowed").asBoolean()).isTrue();
    assertThat(viaPod.has("patch")).isFalse();
  }

  @Test
  void anInvalidOverrideIsDeniedWithTheAnnotationNamed() {
    ObjectNode pod =
        Fixtures.rawPod("annotated", Map.of("conveyor.etl/sidecar-memory-limit", "lots"));

    JsonNode response =
        review(post("/mutate", Fixtures.bytes(Fixtures.review(pod, "shop", false))));

    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.path("status").path("code").asInt()).isEqualTo(400);
    assertThat(response.path("status").path("message").asText())
        .contains("conveyor.etl/sidecar-memory-limit='lots'")
        .contains("a Kubernetes memory quantity");
  }

  @Test
  void aHostNetworkPodIsAdmittedWithAWarning() {
    JsonNode response =
        review(
            post(
                "/mutate",
                Fixtures.bytes(Fixtures.review(Fixtures.rawPod("host-network"), "shop", false))));

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText()).contains("hostNetwork");
  }

  @Test
  void aSidecarFromAnOlderInjectionIsGivenItsCredentialsWithAWarning() {
    ObjectNode pod = Fixtures.rawPod("older-injection");

    JsonNode response =
        review(post("/mutate", Fixtures.bytes(Fixtures.review(pod, "shop", false))));

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = Fixtures.parse(Base64.getDecoder().decode(response.path("patch").asText()));
    JsonNode patched = JsonPatch.apply(patch, pod);
    assertThat(patched.at("/spec/initContainers/0/volumeMounts").findValuesAsText("name"))
        .containsExactly(
            "conveyor-sidecar-tmp",
            "conveyor-token",
            "conveyor-trust-bundle",
            "conveyor-no-api-token");
    assertThat(response.path("warnings").get(0).asText())
        .contains("earlier injection")
        .contains("API token kept out");
    assertThat(TlsClients.get(app.adminPort(), "/metrics").body())
        .containsPattern("conveyor_webhook_repaired_total [1-9]")
        .containsPattern(
            "conveyor_webhook_requests_total\\{dry_run=\"false\",outcome=\"repaired\"\\} [1-9]");
  }

  @Test
  void objectsOtherThanPodsAreAllowedUnchangedWithTheirUid() {
    ObjectNode request = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    ObjectNode inner = (ObjectNode) request.get("request");
    inner.putObject("kind").put("group", "").put("version", "v1").put("kind", "ConfigMap");
    inner.set(
        "object",
        Fixtures.parse(
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}"
                .getBytes(StandardCharsets.UTF_8)));

    JsonNode response = review(post("/mutate", Fixtures.bytes(request)));

    assertThat(response.path("uid").asText()).isEqualTo(inner.path("uid").asText());
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void aDryRunGetsTheSamePatchAndIsCountedAsADryRun() {
    ObjectNode pod = Fixtures.rawPod("annotated");

    JsonNode real = review(post("/mutate", Fixtures.bytes(Fixtures.review(pod, "shop", false))));
    JsonNode dry = review(post("/mutate", Fixtures.bytes(Fixtures.review(pod, "shop", true))));

    assertThat(dry.path("patch").asText()).isEqualTo(real.path("patch").asText());
    assertThat(TlsClients.get(app.adminPort(), "/metrics").body())
        .containsPattern(
            "conveyor_webhook_requests_total\\{[^}]*dry_run=\"true\"[^}]*outcome=\"injected\"");
  }

  @Test
  void malformedRequestsGetA400WithAClearMessageAndNoStackTrace() {
    ObjectNode wrongKind = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    wrongKind.put("kind", "Pod");
    ObjectNode wrongVersion = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    wrongVersion.put("apiVersion", "admission.k8s.io/v1beta1");
    ObjectNode noRequest = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    noRequest.remove("request");
    ObjectNode noObject = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    ((ObjectNode) noObject.get("request")).remove("object");
    ObjectNode noUid = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    ((ObjectNode) noUid.get("request")).remove("uid");
    ObjectNode notAPod = Fixtures.review(Fixtures.rawPod("annotated"), "shop", false);
    ((ObjectNode) notAPod.get("request").get("object")).putArray("spec");

    Map<byte[], String> cases =
        Map.of(
            "{not json".getBytes(StandardCharsets.UTF_8), "the body is not valid JSON",
            "[1,2]".getBytes(StandardCharsets.UTF_8), "the body is not a JSON object",
            Fixtures.bytes(wrongKind), "expected kind AdmissionReview, got Pod",
            Fixtures.bytes(wrongVersion),
                "expected apiVersion admission.k8s.io/v1, got admission.k8s.io/v1beta1",
            Fixtures.bytes(noRequest), "the AdmissionReview has no request",
            Fixtures.bytes(noObject), "request.object is missing",
            Fixtures.bytes(noUid), "request.uid is missing",
            Fixtures.bytes(notAPod), "request.object is not a valid Pod");
    cases.forEach(
        (body, message) -> {
          HttpResponse<String> response = post("/mutate", body);
          assertThat(response.statusCode()).as(message).isEqualTo(400);
          assertThat(response.body())
              .contains(message)
              .doesNotContain("Exception")
              .doesNotContain("\tat ");
        });
  }

  @Test
  void wrongMethodTypeSizeOrPathAreRefused() {
    HttpResponse<String> get =
        TlsClients.send(
            trusting,
            HttpRequest.newBuilder(URI.create("https://localhost:" + app.httpsPort() + "/mutate"))
                .GET()
                .build());
    HttpResponse<String> text =
        TlsClients.send(
            trusting,
            HttpRequest.newBuilder(URI.create("https://localhost:" + app.httpsPort() + "/mutate"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello"))
                .build());
    byte[] huge = new byte[(int) app.config().server().maxRequestBytes() + 1];
    HttpResponse<String> tooLarge = post("/mutate", huge);
    HttpResponse<String> elsewhere =
        post(
            "/mutate/other",
            Fixtures.bytes(Fixtures.review(Fixtures.rawPod("plain"), "shop", false)));

    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(elsewhere.statusCode()).isEqualTo(404);
  }

  @Test
  void aClientThatDoesNotTrustTheGeneratedCaFailsTheHandshake() throws Exception {
    SSLContext systemTrust = SSLContext.getDefault();
    SSLContext otherCa =
        TlsClients.trusting(
            java.util.List.of(
                new io.conveyor.webhook.tls.CertificateIssuer(new java.security.SecureRandom())
                    .issueAll(
                        java.time.Instant.now(),
                        io.conveyor.webhook.testing.TestTls.settings(
                            io.conveyor.webhook.tls.TlsSettings.Store.MEMORY))
                    .caCertificate()));

    assertThatThrownBy(() -> TlsClients.presentedCertificate(systemTrust, app.httpsPort()))
        .isInstanceOf(SSLHandshakeException.class);
    assertThatThrownBy(() -> TlsClients.presentedCertificate(otherCa, app.httpsPort()))
        .isInstanceOf(SSLHandshakeException.class);
    assertThat(TlsClients.presentedCertificate(trustingContext, app.httpsPort()))
        .isEqualTo(app.certificates().served().orElseThrow().certificate());
  }

  @Test
  void onlyTls12AndTls13AreOffered() throws Exception {
    assertThat(TlsClients.protocolNegotiated(trustingContext, app.httpsPort()))
        .isEqualTo("TLSv1.3");
    assertThat(TlsClients.protocolNegotiated(trustingContext, app.httpsPort(), "TLSv1.2"))
        .isEqualTo("TLSv1.2");
    assertThat(ServerTls.parameters(SSLContext.getDefault()).getProtocols())
        .containsExactly("TLSv1.3", "TLSv1.2");
  }

  @Test
  void healthReadinessAndMetricsAreServed() {
    post("/mutate", Fixtures.bytes(Fixtures.review(Fixtures.rawPod("annotated"), "shop", false)));
    post("/mutate", Fixtures.bytes(Fixtures.review(Fixtures.rawPod("opted-out"), "shop", false)));
    post(
        "/mutate",
        Fixtures.bytes(
            Fixtures.review(
                Fixtures.rawPod("annotated", Map.of("conveyor.etl/grpc-port", "0")),
                "shop",
                false)));

    assertThat(TlsClients.get(app.adminPort(), "/healthz").statusCode()).isEqualTo(200);
    assertThat(TlsClients.get(app.adminPort(), "/readyz").statusCode()).isEqualTo(200);
    HttpResponse<String> httpsReady =
        TlsClients.send(
            trusting,
            HttpRequest.newBuilder(URI.create("https://localhost:" + app.httpsPort() + "/readyz"))
                .build());
    assertThat(httpsReady.statusCode()).isEqualTo(200);
    String metrics = TlsClients.get(app.adminPort(), "/metrics").body();
    assertThat(metrics)
        .containsPattern("conveyor_webhook_injected_total\\{mode=\"native\"\\} [1-9]")
        .containsPattern("conveyor_webhook_skipped_total\\{reason=\"opted-out\"\\} [1-9]")
        .containsPattern("conveyor_webhook_denied_total [1-9]")
        .contains("conveyor_webhook_request_duration_seconds_bucket")
        .containsPattern("conveyor_webhook_tls_certificate_expiry_seconds [1-9]");
  }
}

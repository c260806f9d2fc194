package io.conveyor.webhook.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.config.WebhookConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Test pods from {@code src/test/resources/mutation}, and AdmissionReviews around them. */
public final class Fixtures {

  public static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  /** The configuration every test uses unless it says otherwise: defaults, version 0.1.0. */
  public static WebhookConfig config(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("INJECTOR_VERSION", "0.1.0");
    env.put("WARMUP_REVIEWS", "20");
    env.put("WARMUP_HANDSHAKES", "2");
    env.putAll(overrides);
    return WebhookConfig.fromEnv(env);
  }

  /**
   * The real webhook on ephemeral HTTPS and metrics ports, its certificate kept in memory, four
   * workers: what the tests that talk HTTPS to it start. The caller waits for {@code isReady}.
   */
  public static WebhookApp startInMemoryApp() {
    return WebhookApp.start(
        config(
            Map.of(
                "TLS_STORE",
                "memory",
                "HTTPS_PORT",
                "0",
                "METRICS_PORT",
                "0",
                "HTTP_THREADS",
                "4")),
        Optional.empty(),
        Clock.systemUTC(),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** The raw JSON tree of a fixture, exactly as written (what the API server would send). */
  public static ObjectNode rawPod(String fixture) {
    try (InputStream in = open(fixture)) {
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ObjectNode rawPod(String fixture, Map<String, String> extraAnnotations) {
    ObjectNode pod = rawPod(fixture);
    if (!extraAnnotations.isEmpty()) {
      ObjectNode annotations = ((ObjectNode) pod.get("metadata")).withObjectProperty("annotations");
      extraAnnotations.forEach(annotations::put);
    }
    return pod;
  }

  public static Pod pod(ObjectNode raw) {
    return SERIALIZATION.convertValue(raw, Pod.class);
  }

  public static Pod pod(String fixture) {
    return pod(rawPod(fixture));
  }

  /** A JSON tree with numbers in one canonical form, so that trees compare by value. */
  public static JsonNode normalized(Object value) {
    try {
      JsonNode tree =
          value instanceof JsonNode node ? node : SERIALIZATION.convertValue(value, JsonNode.class);
      return JSON.readTree(JSON.writeValueAsString(tree));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An {@code admission.k8s.io/v1} AdmissionReview creating {@code pod} in {@code namespace}. */
  public static ObjectNode review(JsonNode pod, String namespace, boolean dryRun) {
    ObjectNode review = JSON.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", UUID.randomUUID().toString());
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.put("namespace", namespace);
    request.put("operation", "CREATE");
    request
        .putObject("userInfo")
        .put("username", "system:serviceaccount:kube-system:replicaset-controller");
    request.set("object", pod);
    request.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", "CreateOptions");
    request.put("dryRun", dryRun);
    return review;
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode parse(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream open(String fixture) {
    InputStream in = Fixtures.class.getResourceAsStream("/mutation/" + fixture + ".yaml");
    if (in == null) {
      throw new IllegalArgumentException("no fixture " + fixture);
    }
    return in;
  }
}

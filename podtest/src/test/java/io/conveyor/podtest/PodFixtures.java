package io.conveyor.podtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.webhook.admission.AdmissionMetrics;
import io.conveyor.webhook.admission.AdmissionReviewCodec;
import io.conveyor.webhook.admission.PodAdmissionHandler;
import io.conveyor.webhook.config.WebhookConfig;
import io.conveyor.webhook.mutation.NamespaceInjection;
import io.conveyor.webhook.mutation.PodMutator;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Pods as a cluster would create them from a Deployment: the ReplicaSet's pod (template, labels,
 * generateName), sent in an AdmissionReview through the webhook's real handler, its JSON Patch
 * applied. What the runner gets is exactly what the API server would store.
 */
public final class PodFixtures {

  public static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper JSON = new ObjectMapper();

  private PodFixtures() {}

  /** The Deployment's pod, as the ReplicaSet controller creates it (before admission). */
  public static Pod replicaSetPod(String deploymentResource) {
    return replicaSetPod(deployment(deploymentResource));
  }

  /** The Deployment's pod, as the ReplicaSet controller creates it (before admission). */
  public static Pod replicaSetPod(Deployment deployment) {
    var template = deployment.getSpec().getTemplate();
    String hash = "7d9f8b6c5";
    Map<String, String> labels = new LinkedHashMap<>(template.getMetadata().getLabels());
    labels.put("pod-template-hash", hash);
    return new PodBuilder()
        .withApiVersion("v1")
        .withKind("Pod")
        .withMetadata(
            new ObjectMetaBuilder()
                .withGenerateName(deployment.getMetadata().getName() + "-" + hash + "-")
                .withLabels(labels)
                .withAnnotations(template.getMetadata().getAnnotations())
                .build())
        .withSpec(template.getSpec())
        .build();
  }

  /**
   * The pod after the API server's ServiceAccount admission, for a pod that does not opt out of
   * {@code automountServiceAccountToken}: a {@code kube-api-access-*} projected volume (a token
   * with the API server's audience, the cluster CA from ConfigMap {@code kube-root-ca.crt}, the
   * namespace) mounted read-only into every container that has no mount at its path.
   */
  public static Pod withApiAccess(Pod pod) {
    if (Boolean.FALSE.equals(pod.getSpec().getAutomountServiceAccountToken())) {
      return pod;
    }
    String name = "kube-api-access-7qk4x";
    Pod admitted =
        new PodBuilder(pod)
            .editSpec()
            .addNewVolume()
            .withName(name)
            .withNewProjected()
            .withDefaultMode(0644)
            .addNewSource()
            .withNewServiceAccountToken()
            .withExpirationSeconds(3607L)
            .withPath("token")
            .endServiceAccountToken()
            .endSource()
            .addNewSource()
            .withNewConfigMap()
            .withName("kube-root-ca.crt")
            .addNewItem()
            .withKey("ca.crt")
            .withPath("ca.crt")
            .endItem()
            .endConfigMap()
            .endSource()
            .addNewSource()
            .withNewDownwardAPI()
            .addNewItem()
            .withPath("namespace")
            .withNewFieldRef()
            .withApiVersion("v1")
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endItem()
            .endDownwardAPI()
            .endSource()
            .endProjected()
            .endVolume()
            .endSpec()
            .build();
    var spec = admitted.getSpec();
    for (var containers : List.of(spec.getInitContainers(), spec.getContainers())) {
      for (Container c : containers) {
        boolean taken =
            c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(API_ACCESS_PATH));
        if (!taken) {
          c.getVolumeMounts()
              .add(
                  new VolumeMountBuilder()
                      .withName(name)
                      .withMountPath(API_ACCESS_PATH)
                      .withReadOnly(true)
                      .build());
        }
      }
    }
    return admitted;
  }

  static final String API_ACCESS_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

  /** The pod after the webhook's answer to a CREATE review in {@code namespace}. */
  public static Pod mutated(Pod pod, String namespace, Map<String, String> webhookEnv) {
    Map<String, String> env = new HashMap<>();
    env.put("INJECTOR_VERSION", "0.1.0");
    env.putAll(webhookEnv);
    WebhookConfig config = WebhookConfig.fromEnv(env);
    AdmissionReviewCodec codec = new AdmissionReviewCodec(SERIALIZATION);
    PodAdmissionHandler handler =
        new PodAdmissionHandler(
            codec,
            new PodMutator(config.sidecar()),
            new AdmissionMetrics(new SimpleMeterRegistry()));
    JsonNode podTree = SERIALIZATION.convertValue(pod, JsonNode.class);
    try {
      var request = codec.parse(JSON.writeValueAsBytes(review(podTree, namespace)));
      var response = handler.handle(request, NamespaceInjection.UNSET).response();
      if (!Boolean.TRUE.equals(response.getAllowed()) || response.getPatch() == null) {
        throw new IllegalStateException("the webhook did not inject: " + response);
      }
      JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.getPatch()));
      return SERIALIZATION.convertValue(JsonPatch.apply(patch, podTree), Pod.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static Pod mutatedDemoSink() {
    return mutated(replicaSetPod("/deploy/demo-sink.yaml"), "shop", Map.of());
  }

  /** The AdmissionReview the API server sends for a CREATE of {@code pod} in {@code namespace}. */
  public static byte[] admissionReview(Pod pod, String namespace) {
    try {
      return JSON.writeValueAsBytes(
          review(SERIALIZATION.convertValue(pod, JsonNode.class), namespace));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode review(JsonNode pod, String namespace) {
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
    request.put("dryRun", false);
    return review;
  }

  public static Deployment deployment(String resource) {
    try (InputStream in = PodFixtures.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no resource " + resource);
      }
      return SERIALIZATION.unmarshal(in, Deployment.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A pod from YAML text, for tests that write their own. */
  public static Pod pod(String yaml) {
    return SERIALIZATION.unmarshal(yaml, Pod.class);
  }
}

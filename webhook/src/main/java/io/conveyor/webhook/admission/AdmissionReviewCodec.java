package io.conveyor.webhook.admission;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads AdmissionReview requests and writes responses. The request is first read as a JSON tree and
 * checked field by field, so that anything unexpected becomes a precise 400 message; the pod is
 * then converted, and responses written, with fabric8's {@link KubernetesSerialization} (a plain
 * mapper would get ports and quantities wrong).
 */
public final class AdmissionReviewCodec {

  public static final String API_VERSION = "admission.k8s.io/v1";
  public static final String KIND = "AdmissionReview";

  private final KubernetesSerialization serialization;
  private final ObjectMapper tree;

  public AdmissionReviewCodec(KubernetesSerialization serialization) {
    this.serialization = serialization;
    this.tree = new ObjectMapper();
    // A pod is small; deep nesting or huge strings in a review are an attack or a bug.
    this.tree
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(200).maxStringLength(4 << 20).build());
  }

  public KubernetesSerialization serialization() {
    return serialization;
  }

  public ParsedRequest parse(byte[] body) throws BadAdmissionRequestException {
    JsonNode root;
    try {
      root = tree.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadAdmissionRequestException(
          "the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadAdmissionRequestException("the body cannot be read: " + e.getMessage());
    }
    if (root == null || root.isMissingNode() || !root.isObject()) {
      throw new BadAdmissionRequestException("the body is not a JSON object");
    }
    String apiVersion = text(root, "apiVersion");
    String kind = text(root, "kind");
    if (!KIND.equals(kind)) {
      throw new BadAdmissionRequestException(
          "expected kind " + KIND + ", got " + (kind.isEmpty() ? "none" : kind));
    }
    if (!API_VERSION.equals(apiVersion)) {
      throw new BadAdmissionRequestException(
          "expected apiVersion "
              + API_VERSION
              + ", got "
              + (apiVersion.isEmpty() ? "none" : apiVersion)
              + " (configure admissionReviewVersions: [v1])");
    }
    JsonNode request = root.get("request");
    if (request == null || !request.isObject()) {
      throw new BadAdmissionRequestException("the AdmissionReview has no request");
    }
    String uid = text(request, "uid");
    if (uid.isEmpty()) {
      throw new BadAdmissionRequestException("request.uid is missing");
    }
    JsonNode gvk = request.get("kind");
    if (gvk == null || !gvk.isObject() || text(gvk, "kind").isEmpty()) {
      throw new BadAdmissionRequestException("request.kind is missing");
    }
    String operation = text(request, "operation");
    if (operation.isEmpty()) {
      throw new BadAdmissionRequestException("request.operation is missing");
    }
    JsonNode object = request.get("object");
    Optional<JsonNode> objectNode =
        object == null || object.isNull() ? Optional.empty() : Optional.of(object);
    if (objectNode.isPresent() && !objectNode.get().isObject()) {
      throw new BadAdmissionRequestException("request.object is not a JSON object");
    }
    return new ParsedRequest(
        uid,
        text(gvk, "group"),
        text(gvk, "version"),
        text(gvk, "kind"),
        text(request, "subResource"),
        operation,
        text(request, "namespace"),
        text(request, "name"),
        request.path("dryRun").asBoolean(false),
        objectNode);
  }

  /**
   * The request's object as a Pod.
   *
   * @throws BadAdmissionRequestException when it is missing or not shaped like a Pod
   */
  public Pod pod(ParsedRequest request) throws BadAdmissionRequestException {
    JsonNode object =
        request
            .object()
            .orElseThrow(() -> new BadAdmissionRequestException("request.object is missing"));
    try {
      return serialization.convertValue(object, Pod.class);
    } catch (RuntimeException e) {
      throw new BadAdmissionRequestException(
          "request.object is not a valid Pod: " + rootMessage(e));
    }
  }

  /** The JSON tree of a Kubernetes object, as fabric8 writes it. */
  public JsonNode toTree(Object kubernetesObject) {
    return serialization.convertValue(kubernetesObject, JsonNode.class);
  }

  public byte[] write(AdmissionResponse response) {
    AdmissionReview review =
        new AdmissionReviewBuilder()
            .withApiVersion(API_VERSION)
            .withKind(KIND)
            .withResponse(response)
            .build();
    return serialization.asJson(review).getBytes(StandardCharsets.UTF_8);
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || !value.isTextual() ? "" : value.asText();
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message =
        root instanceof JsonProcessingException j ? j.getOriginalMessage() : root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }
}

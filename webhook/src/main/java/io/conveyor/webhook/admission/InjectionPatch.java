package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.webhook.mutation.SidecarAdditions;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.Map;
import java.util.function.Function;

/**
 * The JSON Patch of an injection, written from its {@link SidecarAdditions} against the pod as the
 * API server sent it: only {@code add} operations, each one an addition. Where the pod has the list
 * or map already (even empty) the patch adds into it; where it has not, it adds the whole list or
 * map. Diffing the original and the mutated pod gives the same result (the tests check that it
 * does) but costs two conversions of the whole pod to JSON: a fifth of the webhook's CPU.
 */
public final class InjectionPatch {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private InjectionPatch() {}

  /**
   * @param object the pod as the request carries it ({@code request.object})
   * @param toTree how a Kubernetes object is written as JSON (the codec's)
   */
  public static ArrayNode of(
      JsonNode object, SidecarAdditions additions, Function<Object, JsonNode> toTree) {
    ArrayNode patch = JSON.arrayNode();
    JsonNode metadata = object.path("metadata");
    if (!metadata.isObject()) {
      ObjectNode added = JSON.objectNode();
      added.set("labels", entry(additions.label()));
      added.set("annotations", entry(additions.annotation()));
      add(patch, "/metadata", added);
    } else {
      addToMap(patch, metadata, "/metadata", "labels", additions.label());
      addToMap(patch, metadata, "/metadata", "annotations", additions.annotation());
    }
    JsonNode spec = object.path("spec");
    JsonNode sidecar = toTree.apply(additions.sidecar());
    if (additions.native_()) {
      if (spec.path("initContainers").isArray()) {
        add(patch, "/spec/initContainers/0", sidecar);
      } else {
        add(patch, "/spec/initContainers", JSON.arrayNode().add(sidecar));
      }
    } else if (spec.path("containers").isArray()) {
      add(patch, "/spec/containers/-", sidecar);
    } else {
      // An API server refuses a pod without containers; the patch is right either way.
      add(patch, "/spec/containers", JSON.arrayNode().add(sidecar));
    }
    if (spec.path("volumes").isArray()) {
      for (Volume volume : additions.volumes()) {
        add(patch, "/spec/volumes/-", toTree.apply(volume));
      }
    } else {
      ArrayNode volumes = JSON.arrayNode();
      additions.volumes().forEach(v -> volumes.add(toTree.apply(v)));
      add(patch, "/spec/volumes", volumes);
    }
    return patch;
  }

  private static void addToMap(
      ArrayNode patch, JsonNode parent, String path, String field, Map.Entry<String, String> e) {
    if (parent.path(field).isObject()) {
      add(patch, path + "/" + field + "/" + escape(e.getKey()), JSON.textNode(e.getValue()));
    } else {
      add(patch, path + "/" + field, entry(e));
    }
  }

  private static ObjectNode entry(Map.Entry<String, String> e) {
    return JSON.objectNode().put(e.getKey(), e.getValue());
  }

  private static void add(ArrayNode patch, String path, JsonNode value) {
    patch.addObject().put("op", "add").put("path", path).set("value", value);
  }

  /**
   * A JSON Pointer reference token (RFC 6901): {@code ~} as {@code ~0}, {@code /} as {@code ~1}.
   */
  static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }
}

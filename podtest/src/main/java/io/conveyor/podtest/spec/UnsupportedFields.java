package io.conveyor.podtest.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every field of a pod that the runner does not honour, by path ({@code
 * spec.containers[1].lifecycle}). An allow-list, not a deny-list: a field Kubernetes adds later is
 * refused until someone decides what the runner does with it.
 */
public final class UnsupportedFields {

  private static final String CONTAINER_FIELDS =
      """
      name image imagePullPolicy command args workingDir
      env[].name env[].value env[].valueFrom.fieldRef.fieldPath env[].valueFrom.fieldRef.apiVersion
      ports[].name ports[].containerPort ports[].protocol
      resources.requests.cpu resources.requests.memory resources.limits.cpu resources.limits.memory
      securityContext.runAsUser securityContext.runAsGroup securityContext.runAsNonRoot
      securityContext.readOnlyRootFilesystem securityContext.allowPrivilegeEscalation
      securityContext.privileged securityContext.capabilities.add securityContext.capabilities.drop
      securityContext.seccompProfile.type
      volumeMounts[].name volumeMounts[].mountPath volumeMounts[].readOnly
      terminationMessagePolicy terminationMessagePath
      """;

  private static final String PROBE_FIELDS =
      """
      httpGet.path httpGet.port httpGet.scheme tcpSocket.port grpc.port grpc.service
      initialDelaySeconds periodSeconds timeoutSeconds failureThreshold successThreshold
      """;

  private static final String POD_FIELDS =
      """
      apiVersion kind metadata.name metadata.generateName metadata.namespace metadata.uid
      spec.serviceAccountName spec.restartPolicy spec.terminationGracePeriodSeconds
      spec.securityContext.runAsUser spec.securityContext.runAsGroup
      spec.securityContext.runAsNonRoot spec.securityContext.seccompProfile.type
      spec.volumes[].name spec.volumes[].emptyDir.medium spec.volumes[].emptyDir.sizeLimit
      spec.volumes[].projected.defaultMode
      spec.volumes[].projected.sources[].serviceAccountToken.audience
      spec.volumes[].projected.sources[].serviceAccountToken.expirationSeconds
      spec.volumes[].projected.sources[].serviceAccountToken.path
      spec.volumes[].projected.sources[].configMap.name
      spec.volumes[].projected.sources[].configMap.items[].key
      spec.volumes[].projected.sources[].configMap.items[].path
      spec.volumes[].projected.sources[].configMap.optional
      spec.volumes[].projected.sources[].downwardAPI.items[].path
      spec.volumes[].projected.sources[].downwardAPI.items[].fieldRef.fieldPath
      spec.volumes[].projected.sources[].downwardAPI.items[].fieldRef.apiVersion
      spec.volumes[].configMap.name spec.volumes[].configMap.items[].key
      spec.volumes[].configMap.items[].path spec.volumes[].configMap.optional
      spec.volumes[].configMap.defaultMode
      """;

  /**
   * Whole subtrees accepted as they are: labels and annotations mean nothing to a kubelet, and on
   * the runner's single node every topology spread is satisfied.
   */
  private static final Set<String> SUBTREES =
      Set.of("metadata.labels", "metadata.annotations", "spec.topologySpreadConstraints");

  private static final Set<String> LEAVES = leaves();

  private UnsupportedFields() {}

  /** One line per unsupported field, in document order; empty when the runner honours them all. */
  public static List<String> of(JsonNode pod) {
    List<String> problems = new ArrayList<>();
    walk(pod, "", "", problems);
    return problems;
  }

  private static Set<String> leaves() {
    List<String> all = new ArrayList<>(words(POD_FIELDS));
    List<String> container = new ArrayList<>(words(CONTAINER_FIELDS));
    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
      words(PROBE_FIELDS).forEach(field -> container.add(probe + "." + field));
    }
    for (String field : container) {
      all.add("spec.containers[]." + field);
      all.add("spec.initContainers[]." + field);
    }
    // Only an init container can be a native sidecar.
    all.add("spec.initContainers[].restartPolicy");
    return Set.copyOf(all);
  }

  private static List<String> words(String text) {
    return List.of(text.trim().split("\\s+"));
  }

  private static void walk(JsonNode node, String path, String shape, List<String> problems) {
    if (node.isNull() || (node.isContainerNode() && node.isEmpty())) {
      return; // absent in every way that matters to a kubelet
    }
    if (!path.isEmpty() && SUBTREES.contains(shape)) {
      return;
    }
    if (node.isArray()) {
      if (LEAVES.contains(shape)) {
        return; // a list of values: command, args, capabilities
      }
      if (!isPrefix(shape)) {
        problems.add(refused(path));
        return;
      }
      for (int i = 0; i < node.size(); i++) {
        walk(node.get(i), path + "[" + i + "]", shape + "[]", problems);
      }
      return;
    }
    if (node.isObject()) {
      if (!path.isEmpty() && !isPrefix(shape)) {
        problems.add(refused(path));
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        String sep = path.isEmpty() ? "" : ".";
        walk(field.getValue(), path + sep + field.getKey(), shape + sep + field.getKey(), problems);
      }
      return;
    }
    if (!LEAVES.contains(shape)) {
      problems.add(refused(path));
    }
  }

  private static boolean isPrefix(String shape) {
    for (String leaf : LEAVES) {
      if (leaf.startsWith(shape + ".") || leaf.startsWith(shape + "[]")) {
        return true;
      }
    }
    return false;
  }

  static String refused(String path) {
    return path + " is not supported by the test runner";
  }
}

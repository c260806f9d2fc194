package io.conveyor.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The permissions deploy/ gives the operator's ServiceAccount: the ClusterRoles bound to it
 * cluster-wide and the Roles bound to it in the namespace kustomize puts them in. Evaluated the way
 * the RBAC authorizer does (group, resource incl. subresource, verb, resourceNames; {@code *}
 * matches anything).
 */
public final class RbacRules {

  /** A rule and where it applies: {@code namespace} null for cluster-wide. */
  public record Grant(String source, PolicyRule rule, String namespace) {}

  private final List<Grant> grants;

  private RbacRules(List<Grant> grants) {
    this.grants = List.copyOf(grants);
  }

  public List<Grant> grants() {
    return grants;
  }

  /** Loads deploy/operator/rbac.yaml, with the namespace of deploy/kustomization.yaml. */
  public static RbacRules load(Path repoRoot, String serviceAccount) {
    String namespace =
        readYaml(repoRoot.resolve("deploy/kustomization.yaml")).get(0).path("namespace").asText();
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<ClusterRole> clusterRoles = new ArrayList<>();
    List<Role> roles = new ArrayList<>();
    List<ClusterRoleBinding> clusterBindings = new ArrayList<>();
    List<RoleBinding> bindings = new ArrayList<>();
    for (JsonNode doc : readYaml(repoRoot.resolve("deploy/operator/rbac.yaml"))) {
      switch (doc.path("kind").asText()) {
        case "ClusterRole" -> clusterRoles.add(serialization.convertValue(doc, ClusterRole.class));
        case "Role" -> roles.add(serialization.convertValue(doc, Role.class));
        case "ClusterRoleBinding" ->
            clusterBindings.add(serialization.convertValue(doc, ClusterRoleBinding.class));
        case "RoleBinding" -> bindings.add(serialization.convertValue(doc, RoleBinding.class));
        default ->
            throw new IllegalStateException("unexpected kind in rbac.yaml: " + doc.path("kind"));
      }
    }
    List<Grant> grants = new ArrayList<>();
    for (ClusterRoleBinding binding : clusterBindings) {
      if (binds(binding.getSubjects(), serviceAccount, namespace)) {
        clusterRoles.stream()
            .filter(r -> r.getMetadata().getName().equals(binding.getRoleRef().getName()))
            .forEach(
                r ->
                    r.getRules()
                        .forEach(
                            rule ->
                                grants.add(
                                    new Grant(
                                        "ClusterRole/" + r.getMetadata().getName(), rule, null))));
      }
    }
    for (RoleBinding binding : bindings) {
      if (binds(binding.getSubjects(), serviceAccount, namespace)) {
        roles.stream()
            .filter(r -> r.getMetadata().getName().equals(binding.getRoleRef().getName()))
            .forEach(
                r ->
                    r.getRules()
                        .forEach(
                            rule ->
                                grants.add(
                                    new Grant(
                                        "Role/" + r.getMetadata().getName(), rule, namespace))));
      }
    }
    return new RbacRules(grants);
  }

  /** The grant that allows the request, if one does. */
  public Optional<Grant> allowing(ApiRequest request) {
    return grants.stream().filter(g -> allows(g, request)).findFirst();
  }

  public static boolean allows(Grant grant, ApiRequest request) {
    if (grant.namespace() != null && !grant.namespace().equals(request.namespace())) {
      return false;
    }
    PolicyRule rule = grant.rule();
    return matches(rule.getApiGroups(), request.group())
        && matches(rule.getResources(), request.ruleResource())
        && matches(rule.getVerbs(), request.verb())
        && (rule.getResourceNames() == null
            || rule.getResourceNames().isEmpty()
            || (request.name() != null && rule.getResourceNames().contains(request.name())));
  }

  private static boolean matches(List<String> allowed, String value) {
    return allowed != null && (allowed.contains("*") || allowed.contains(value));
  }

  private static boolean binds(List<Subject> subjects, String serviceAccount, String namespace) {
    return subjects != null
        && subjects.stream()
            .anyMatch(
                s ->
                    "ServiceAccount".equals(s.getKind())
                        && serviceAccount.equals(s.getName())
                        && namespace.equals(s.getNamespace()));
  }

  static List<JsonNode> readYaml(Path file) {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNextValue()) {
        JsonNode node = it.nextValue();
        if (node != null && !node.isNull() && !node.isMissingNode()) {
          docs.add(node);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return docs;
  }
}

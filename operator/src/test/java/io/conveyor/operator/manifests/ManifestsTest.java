package io.conveyor.operator.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.operator.crd.ConveyorLabels;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.testing.RbacAudit;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests in crds/ and deploy/: every YAML document parses as a Kubernetes object (kustomize
 * files included: they carry apiVersion and kind too), and the names, ports and labels the
 * Deployment, Service, CRDs, RBAC and the operator's defaults share agree with each other.
 */
class ManifestsTest {

  private static final Path ROOT = RbacAudit.repoRoot();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static Map<String, HasMetadata> operatorObjects;

  @BeforeAll
  static void load() {
    operatorObjects = new HashMap<>();
    for (Path file : yamlFiles(ROOT.resolve("deploy/operator"))) {
      for (JsonNode doc : documents(file)) {
        if (!doc.path("kind").asText().equals("Kustomization")) {
          HasMetadata object = SERIALIZATION.convertValue(doc, HasMetadata.class);
          operatorObjects.put(object.getKind() + "/" + object.getMetadata().getName(), object);
        }
      }
    }
  }

  @Test
  void everyYamlUnderCrdsAndDeployParsesAsKubernetesObjects() {
    List<String> problems = new ArrayList<>();
    int objects = 0;
    for (Path dir : List.of(ROOT.resolve("crds"), ROOT.resolve("deploy"))) {
      for (Path file : yamlFiles(dir)) {
        String where = ROOT.relativize(file).toString();
        List<JsonNode> docs;
        try {
          docs = documents(file);
        } catch (UncheckedIOException e) {
          problems.add(where + ": not YAML: " + e.getCause().getMessage());
          continue;
        }
        if (docs.isEmpty()) {
          problems.add(where + ": no document");
        }
        for (JsonNode doc : docs) {
          if (isKustomizeTransformerConfig(file, doc)) {
            continue;
          }
          String kind = doc.path("kind").asText();
          if (doc.path("apiVersion").asText().isEmpty() || kind.isEmpty()) {
            problems.add(where + ": a document without apiVersion or kind");
            continue;
          }
          try {
            HasMetadata object = SERIALIZATION.convertValue(doc, HasMetadata.class);
            if (!kind.equals("Kustomization")
                && (object.getMetadata() == null || isBlank(object.getMetadata().getName()))) {
              problems.add(where + ": " + kind + " without metadata.name");
            }
            if (!kind.equals("Kustomization")
                && object instanceof GenericKubernetesResource
                && doc.path("apiVersion")
                    .asText()
                    .matches(
                        "v1|apps/v1|policy/v1|rbac.authorization.k8s.io/v1|apiextensions.k8s.io/v1")) {
              problems.add(
                  where
                      + ": "
                      + kind
                      + " is not a known kind of "
                      + doc.path("apiVersion").asText());
            }
            objects++;
          } catch (RuntimeException e) {
            problems.add(where + ": " + kind + " does not parse: " + e.getMessage());
          }
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(objects).isGreaterThan(10);
  }

  @Test
  void theCrdsAreTheOnesTheOperatorUses() {
    CustomResourceDefinition sidecars = crd("conveyorsidecars.conveyor.etl-v1.yml");
    CustomResourceDefinition pipelines = crd("pipelines.conveyor.etl-v1.yml");

    assertThat(sidecars.getMetadata().getName())
        .isEqualTo(new ConveyorSidecar().getFullResourceName());
    assertThat(sidecars.getSpec().getGroup()).isEqualTo(ConveyorLabels.GROUP);
    assertThat(sidecars.getSpec().getNames().getKind()).isEqualTo("ConveyorSidecar");
    assertThat(sidecars.getSpec().getNames().getShortNames()).isNotEmpty();
    assertThat(sidecars.getSpec().getVersions().get(0).getSubresources().getStatus()).isNotNull();
    assertThat(sidecars.getSpec().getVersions().get(0).getAdditionalPrinterColumns())
        .extracting(c -> c.getJsonPath())
        .contains(
            ".status.phase",
            ".status.podIP",
            ".status.serviceNames",
            ".status.pipelines",
            ".status.lastHeartbeat",
            ".metadata.creationTimestamp");

    assertThat(pipelines.getMetadata().getName()).isEqualTo(new Pipeline().getFullResourceName());
    assertThat(pipelines.getSpec().getNames().getShortNames()).contains("pl");
    assertThat(pipelines.getSpec().getVersions().get(0).getAdditionalPrinterColumns())
        .extracting(c -> c.getJsonPath())
        .contains(
            ".spec.source",
            ".spec.sink",
            ".status.phase",
            ".status.replicaSummary",
            ".metadata.creationTimestamp");
    assertThat(
            pipelines
                .getSpec()
                .getVersions()
                .get(0)
                .getSchema()
                .getOpenAPIV3Schema()
                .getProperties()
                .get("spec")
                .getRequired())
        .contains("source", "sink");
  }

  @Test
  void theExamplePipelinesAreValidPipelineObjects() {
    for (Path file : yamlFiles(ROOT.resolve("examples/pipelines"))) {
      for (JsonNode doc : documents(file)) {
        Pipeline pipeline = SERIALIZATION.convertValue(doc, Pipeline.class);
        PipelineValidation validation =
            PipelineValidator.validate(
                "default", pipeline.getMetadata().getName(), 1, pipeline.getSpec());
        assertThat(validation).as(file.toString()).isInstanceOf(PipelineValidation.Valid.class);
      }
    }
  }

  @Test
  void deploymentServiceAndDefaultsAgreeOnNamesAndPorts() {
    Deployment deployment = object("Deployment/conveyor-operator", Deployment.class);
    Service service = object("Service/conveyor-router", Service.class);
    OperatorConfig defaults = OperatorConfig.fromEnv(Map.of());
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, Integer> ports =
        container.getPorts().stream()
            .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
    Map<String, String> env =
        container.getEnv().stream()
            .filter(e -> e.getValue() != null)
            .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));

    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    assertThat(ports)
        .containsEntry("grpc", defaults.routerPort())
        .containsEntry("admin", defaults.adminPort());
    assertThat(env).containsEntry("ROUTER_PORT", String.valueOf(ports.get("grpc")));
    assertThat(env).containsEntry("ADMIN_PORT", String.valueOf(ports.get("admin")));
    assertThat(env).containsEntry("LEASE_NAME", defaults.leaseName());
    assertThat(container.getEnv())
        .extracting(EnvVar::getName)
        .contains("POD_NAME", "POD_NAMESPACE");

    // The Service selects the operator's pods and sends 50051 to the container port named grpc.
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
    assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
    ServicePort grpc = service.getSpec().getPorts().get(0);
    assertThat(grpc.getName()).isEqualTo("grpc");
    assertThat(grpc.getPort()).isEqualTo(50051);
    assertThat(grpc.getTargetPort().getStrVal()).isEqualTo("grpc");

    // Probes: liveness and readiness on the admin port; readiness is the leadership one.
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("admin");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("admin");

    // Hardened and bounded.
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).contains("ALL");
    assertThat(deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot())
        .isTrue();
    assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(container.getResources().getLimits()).containsKey("memory");

    // The PDB selects the same pods.
    PodDisruptionBudget pdb =
        object("PodDisruptionBudget/conveyor-operator", PodDisruptionBudget.class);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
  }

  @Test
  void rbacBindsTheDeploymentsServiceAccountToRulesForTheCrdsAndTheLease() {
    Deployment deployment = object("Deployment/conveyor-operator", Deployment.class);
    ServiceAccount account = object("ServiceAccount/conveyor-operator", ServiceAccount.class);
    ClusterRole clusterRole = object("ClusterRole/conveyor-operator", ClusterRole.class);
    ClusterRoleBinding clusterBinding =
        object("ClusterRoleBinding/conveyor-operator", ClusterRoleBinding.class);
    Role role = object("Role/conveyor-operator-leader-election", Role.class);
    RoleBinding roleBinding =
        object("RoleBinding/conveyor-operator-leader-election", RoleBinding.class);
    String namespace =
        documents(ROOT.resolve("deploy/kustomization.yaml")).get(0).path("namespace").asText();

    assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(account.getMetadata().getName());
    assertThat(clusterBinding.getRoleRef().getName())
        .isEqualTo(clusterRole.getMetadata().getName());
    assertThat(roleBinding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    for (var subject :
        List.of(clusterBinding.getSubjects().get(0), roleBinding.getSubjects().get(0))) {
      assertThat(subject.getName()).isEqualTo(account.getMetadata().getName());
      assertThat(subject.getNamespace()).isEqualTo(namespace);
    }
    assertThat(OperatorConfig.fromEnv(Map.of()).leaseNamespace()).isEqualTo(namespace);

    // Every conveyor.etl resource the ClusterRole names is a CRD plural (or its status).
    Set<String> plurals = new TreeSet<>();
    for (Path file : yamlFiles(ROOT.resolve("crds"))) {
      plurals.add(crd(file.getFileName().toString()).getSpec().getNames().getPlural());
    }
    Set<String> named = new TreeSet<>();
    for (PolicyRule rule : clusterRole.getRules()) {
      if (rule.getApiGroups().contains(ConveyorLabels.GROUP)) {
        rule.getResources().forEach(r -> named.add(r.replace("/status", "")));
      }
    }
    assertThat(named).isEqualTo(plurals);

    // Outside Conveyor's own group and the core pods, the only grant is creating TokenReviews
    // (enrolment): no other authentication, authorization or certificates API.
    List<PolicyRule> others =
        clusterRole.getRules().stream()
            .filter(r -> !r.getApiGroups().contains(ConveyorLabels.GROUP))
            .filter(r -> !r.getApiGroups().equals(List.of("")))
            .toList();
    assertThat(others).hasSize(1);
    assertThat(others.get(0).getApiGroups()).containsExactly("authentication.k8s.io");
    assertThat(others.get(0).getResources()).containsExactly("tokenreviews");
    assertThat(others.get(0).getVerbs()).containsExactly("create");
    assertThat(others.get(0).getResourceNames()).isNullOrEmpty();

    // The Lease the operator renews is the one the Role names.
    Set<String> leaseNames =
        role.getRules().stream()
            .filter(r -> r.getResourceNames() != null)
            .flatMap(r -> r.getResourceNames().stream())
            .collect(Collectors.toSet());
    assertThat(leaseNames).containsExactly(OperatorConfig.fromEnv(Map.of()).leaseName());
  }

  @Test
  void theKustomizationListsEveryFileAndParameterisesTheImage() {
    JsonNode kustomization = documents(ROOT.resolve("deploy/operator/kustomization.yaml")).get(0);
    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(r -> listed.add(r.asText()));
    Set<String> present =
        yamlFiles(ROOT.resolve("deploy/operator")).stream()
            .map(p -> p.getFileName().toString())
            .filter(n -> !n.equals("kustomization.yaml"))
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(listed).isEqualTo(present);

    Deployment deployment = object("Deployment/conveyor-operator", Deployment.class);
    String image = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    assertThat(kustomization.path("images").findValuesAsText("name")).contains(image);

    JsonNode root = documents(ROOT.resolve("deploy/kustomization.yaml")).get(0);
    List<String> rootResources = new ArrayList<>();
    root.path("resources").forEach(r -> rootResources.add(r.asText()));
    assertThat(rootResources).contains("operator");
  }

  @Test
  void kustomizeRendersTheOperatorIntoItsNamespace() throws Exception {
    assumeTrue(onPath("kubectl"), "kubectl is not installed");
    Process process =
        new ProcessBuilder("kubectl", "kustomize", ROOT.resolve("deploy").toString())
            .redirectErrorStream(false)
            .start();
    String rendered = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String errors = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(errors).isZero();

    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(rendered)) {
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    }
    Map<String, JsonNode> byKey = new HashMap<>();
    docs.forEach(
        d ->
            byKey.put(d.path("kind").asText() + "/" + d.path("metadata").path("name").asText(), d));
    for (String key :
        List.of(
            "Deployment/conveyor-operator",
            "Service/conveyor-router",
            "ServiceAccount/conveyor-operator",
            "Role/conveyor-operator-leader-election",
            "RoleBinding/conveyor-operator-leader-election",
            "PodDisruptionBudget/conveyor-operator")) {
      assertThat(byKey).containsKey(key);
      assertThat(byKey.get(key).path("metadata").path("namespace").asText())
          .as(key)
          .isEqualTo("conveyor-system");
    }
    assertThat(byKey)
        .containsKeys("ClusterRole/conveyor-operator", "ClusterRoleBinding/conveyor-operator");
    assertThat(
            byKey
                .get("Deployment/conveyor-operator")
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .startsWith("ghcr.io/conveyor-etl/conveyor-operator:");
  }

  // ------------------------------------------------------------------ helpers

  private static <T extends HasMetadata> T object(String key, Class<T> type) {
    HasMetadata object = operatorObjects.get(key);
    assertThat(object).as("%s in deploy/operator", key).isNotNull();
    return type.cast(object);
  }

  private static CustomResourceDefinition crd(String file) {
    return SERIALIZATION.convertValue(
        documents(ROOT.resolve("crds").resolve(file)).get(0), CustomResourceDefinition.class);
  }

  /** deploy/webhook/kustomizeconfig.yaml and the like: kustomize transformer configuration. */
  private static boolean isKustomizeTransformerConfig(Path file, JsonNode doc) {
    return file.getFileName().toString().startsWith("kustomizeconfig") && !doc.has("kind");
  }

  private static List<Path> yamlFiles(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<JsonNode> documents(Path file) {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNextValue()) {
        JsonNode node = it.nextValue();
        if (node != null && !node.isNull() && !node.isMissingNode()) {
          docs.add(node);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return docs;
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    return path != null
        && Stream.of(path.split(java.io.File.pathSeparator))
            .anyMatch(d -> Files.isExecutable(Path.of(d, command)));
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}

package io.conveyor.webhook.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.testkit.RenderedManifests;
import io.conveyor.webhook.admission.AdmissionHttpHandler;
import io.conveyor.webhook.config.WebhookConfig;
import io.conveyor.webhook.mutation.InjectionKeys;
import io.conveyor.webhook.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The manifests in {@code deploy/webhook} and the code agree: names, paths, ports, the RBAC the TLS
 * bootstrap needs, and the safety settings the README promises.
 */
class DeployManifestsTest {

  private static final Path DEPLOY = Path.of("..", "deploy", "webhook");
  private static final WebhookConfig DEFAULTS = WebhookConfig.fromEnv(Map.of());

  private static List<HasMetadata> load(String file) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : Files.readString(DEPLOY.resolve(file)).split("(?m)^---\\s*$")) {
      if (document.lines().anyMatch(l -> l.startsWith("kind:"))) {
        objects.add(Fixtures.SERIALIZATION.unmarshal(document));
      }
    }
    return objects;
  }

  private static <T> T one(String file, Class<T> type) throws IOException {
    return load(file).stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
  }

  @Test
  void theWebhookConfigurationFiltersServerSideAndCallsTheServedPaths() throws IOException {
    MutatingWebhookConfiguration configuration =
        one("mutatingwebhookconfiguration.yaml", MutatingWebhookConfiguration.class);

    assertThat(configuration.getMetadata().getName())
        .isEqualTo(DEFAULTS.tls().webhookConfigurationName());
    assertThat(configuration.getWebhooks())
        .extracting(w -> w.getClientConfig().getService().getPath())
        .containsExactlyInAnyOrder(
            AdmissionHttpHandler.PATH,
            AdmissionHttpHandler.NAMESPACE_ENABLED_PATH,
            AdmissionHttpHandler.NAMESPACE_DISABLED_PATH);
    for (MutatingWebhook webhook : configuration.getWebhooks()) {
      assertThat(webhook.getClientConfig().getService().getName()).isEqualTo("conveyor-webhook");
      assertThat(webhook.getClientConfig().getService().getPort()).isEqualTo(443);
      assertThat(webhook.getClientConfig().getCaBundle()).as("written by the webhook").isNull();
      assertThat(webhook.getAdmissionReviewVersions()).containsExactly("v1");
      assertThat(webhook.getSideEffects()).isEqualTo("None");
      assertThat(webhook.getFailurePolicy()).isEqualTo("Fail");
      assertThat(webhook.getReinvocationPolicy()).isEqualTo("IfNeeded");
      assertThat(webhook.getTimeoutSeconds()).isBetween(1, 10);
      assertThat(webhook.getRules())
          .singleElement()
          .satisfies(
              rule -> {
                assertThat(rule.getOperations()).containsExactly("CREATE");
                assertThat(rule.getResources()).containsExactly("pods");
              });
      assertThat(webhook.getMatchConditions()).isNotEmpty();
      assertThat(webhook.getMatchConditions().get(0).getExpression())
          .contains(InjectionKeys.INJECT);
      List<LabelSelectorRequirement> namespaces =
          webhook.getNamespaceSelector().getMatchExpressions();
      assertThat(namespaces)
          .anySatisfy(
              r -> {
                assertThat(r.getKey()).isEqualTo("kubernetes.io/metadata.name");
                assertThat(r.getOperator()).isEqualTo("NotIn");
                assertThat(r.getValues())
                    .containsAll(InjectionKeys.SYSTEM_NAMESPACES)
                    .contains(DEFAULTS.namespace());
              });
      assertThat(namespaces)
          .anySatisfy(r -> assertThat(r.getKey()).isEqualTo(InjectionKeys.NAMESPACE_INJECTION));
    }
  }

  @Test
  void rbacCoversExactlyWhatTheTlsBootstrapDoes() throws IOException {
    Role role = one("rbac.yaml", Role.class);
    ClusterRole clusterRole = one("rbac.yaml", ClusterRole.class);

    assertThat(role.getRules())
        .anySatisfy(
            rule -> {
              assertThat(rule.getResourceNames()).containsExactly(DEFAULTS.tls().secretName());
              assertThat(rule.getVerbs()).contains("get", "update");
            });
    assertThat(role.getRules())
        .filteredOn(rule -> rule.getResourceNames().isEmpty())
        .flatExtracting(PolicyRule::getVerbs)
        .containsExactly("create");
    assertThat(clusterRole.getRules())
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.getResources()).containsExactly("mutatingwebhookconfigurations");
              assertThat(rule.getResourceNames())
                  .containsExactly(DEFAULTS.tls().webhookConfigurationName());
              assertThat(rule.getVerbs())
                  .contains("get", "update")
                  .doesNotContain("list", "watch", "delete", "create");
            });
  }

  @Test
  void theDeploymentIsHardenedAndExposesTheConfiguredPorts() throws IOException {
    Deployment deployment = one("deployment.yaml", Deployment.class);
    Service service = one("service.yaml", Service.class);
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    assertThat(container.getPorts())
        .extracting(ContainerPort::getName, ContainerPort::getContainerPort)
        .contains(
            org.assertj.core.groups.Tuple.tuple("https", DEFAULTS.server().httpsPort()),
            org.assertj.core.groups.Tuple.tuple("metrics", DEFAULTS.server().metricsPort()));
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getSecurityContext().getSeccompProfile().getType())
        .isEqualTo("RuntimeDefault");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(service.getSpec().getPorts())
        .anySatisfy(
            p -> {
              assertThat(p.getPort()).isEqualTo(443);
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("https");
            });
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry(InjectionKeys.INJECT, "false");
  }

  /**
   * What the pod really gets is the rendered Deployment: kustomize's {@code images:} also rewrites
   * environment values (kustomizeconfig.yaml, for SIDECAR_IMAGE), and any value equal to a listed
   * image name is rewritten with it. Every value must still be a valid configuration, naming the
   * Service and Secret the other manifests use.
   */
  @Test
  void theRenderedDeploymentsEnvironmentIsAValidConfigurationNamingItsOwnService() {
    List<com.fasterxml.jackson.databind.JsonNode> rendered = RenderedManifests.render();
    Deployment deployment =
        Fixtures.SERIALIZATION.convertValue(
            RenderedManifests.one(rendered, "Deployment", "conveyor-webhook"), Deployment.class);
    Map<String, String> env = new java.util.HashMap<>();
    for (EnvVar var :
        deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    env.put("POD_NAMESPACE", deployment.getMetadata().getNamespace());

    WebhookConfig config = WebhookConfig.fromEnv(env);

    assertThat(config.tls().dnsNames())
        .contains(
            RenderedManifests.one(rendered, "Service", "conveyor-webhook")
                    .at("/metadata/name")
                    .asText()
                + "."
                + deployment.getMetadata().getNamespace()
                + ".svc");
    assertThat(config.tls().secretName()).isEqualTo("conveyor-webhook-tls");
    assertThat(config.sidecar().image()).isEqualTo("ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0");
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/conveyor-etl/conveyor-webhook:0.1.0");
  }
}

package io.conveyor.webhook.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.contract.SidecarProfile;
import io.conveyor.webhook.mutation.SidecarMode;
import io.conveyor.webhook.tls.TlsSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookConfigTest {

  @Test
  void defaultsMatchTheProjectContracts() {
    WebhookConfig config = WebhookConfig.fromEnv(Map.of());

    assertThat(config.namespace()).isEqualTo("conveyor-system");
    assertThat(config.server().bindAddress()).isEqualTo("0.0.0.0");
    assertThat(config.server().httpsPort()).isEqualTo(8443);
    assertThat(config.server().metricsPort()).isEqualTo(9090);
    assertThat(config.tls().store()).isEqualTo(TlsSettings.Store.KUBERNETES);
    assertThat(config.tls().secretName()).isEqualTo("conveyor-webhook-tls");
    assertThat(config.tls().webhookConfigurationName()).isEqualTo("conveyor-sidecar-injector");
    assertThat(config.tls().dnsNames())
        .containsExactly(
            "conveyor-webhook",
            "conveyor-webhook.conveyor-system",
            "conveyor-webhook.conveyor-system.svc",
            "conveyor-webhook.conveyor-system.svc.cluster.local");
    assertThat(config.tls().certValidity()).isEqualTo(Duration.ofDays(90));
    assertThat(config.sidecar().image()).isEqualTo("ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0");
    assertThat(config.sidecar().mode()).isEqualTo(SidecarMode.NATIVE);
    assertThat(config.sidecar().clusterEndpoint().toString())
        .isEqualTo("conveyor-router.conveyor-system.svc:50051");
    assertThat(config.sidecar().grpcPort()).isEqualTo(9091);
    assertThat(config.sidecar().peerPort()).isEqualTo(9096);
    assertThat(config.sidecar().metricsPort()).isEqualTo(9090);
    assertThat(config.sidecar().profile()).isEqualTo(SidecarProfile.COMPACT);
    assertThat(config.sidecar().resources().cpuRequest()).map(Object::toString).contains("50m");
    assertThat(config.sidecar().resources().cpuLimit()).isEmpty();
    assertThat(config.sidecar().resources().memoryRequest()).map(Object::toString).contains("96Mi");
    assertThat(config.sidecar().resources().memoryLimit()).map(Object::toString).contains("192Mi");
    assertThat(config.excludedNamespaces())
        .containsExactly("conveyor-system", "kube-node-lease", "kube-public", "kube-system");
  }

  @Test
  void theWebhooksOwnNamespaceFollowsPodNamespace() {
    WebhookConfig config = WebhookConfig.fromEnv(Map.of("POD_NAMESPACE", "data-plane"));

    assertThat(config.sidecar().excludedNamespaces()).contains("data-plane");
    assertThat(config.tls().dnsNames()).contains("conveyor-webhook.data-plane.svc");
  }

  @Test
  void theMemoryStoreAddsLocalhostForLocalRuns() {
    WebhookConfig config = WebhookConfig.fromEnv(Map.of("TLS_STORE", "memory"));

    assertThat(config.tls().store()).isEqualTo(TlsSettings.Store.MEMORY);
    assertThat(config.tls().dnsNames()).contains("localhost");
  }

  @Test
  void everyBadValueIsReportedNamingTheVariable() {
    assertThatThrownBy(
            () ->
                WebhookConfig.fromEnv(
                    Map.of(
                        "SIDECAR_MODE", "sidecar",
                        "SIDECAR_PROFILE", "fast",
                        "SIDECAR_MEMORY_LIMIT", "lots",
                        "SIDECAR_GRPC_PORT", "0",
                        "CLUSTER_ENDPOINT", "router",
                        "ROUTER_SERVICE_ACCOUNT", "conveyor-operator",
                        "TLS_RENEW_BEFORE_DAYS", "120",
                        "SIDECAR_IMAGE_PULL_POLICY", "Sometimes")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "SIDECAR_MODE='sidecar' is not valid: expected one of native, container"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "SIDECAR_PROFILE='fast' is not valid: expected one of compact,"
                                    + " throughput"))
                    .anyMatch(p -> p.startsWith("SIDECAR_MEMORY_LIMIT='lots' is not valid"))
                    .anyMatch(p -> p.startsWith("SIDECAR_GRPC_PORT='0' is not valid"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "CLUSTER_ENDPOINT='router' is not valid: expected host:port"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "ROUTER_SERVICE_ACCOUNT='conveyor-operator' is not valid: expected"
                                    + " namespace/name"))
                    .anyMatch(
                        p ->
                            p.contains(
                                "TLS_RENEW_BEFORE_DAYS must be smaller than TLS_CERT_VALIDITY_DAYS"))
                    .anyMatch(
                        p -> p.startsWith("SIDECAR_IMAGE_PULL_POLICY='Sometimes' is not valid")));
  }

  @Test
  void bindAddressTakesAnIpLiteralAndRefusesAnythingElseWithTheSidecarsMessage() {
    assertThat(WebhookConfig.fromEnv(Map.of("BIND_ADDRESS", "10.1.2.3")).server().bindAddress())
        .isEqualTo("10.1.2.3");
    assertThat(WebhookConfig.fromEnv(Map.of("BIND_ADDRESS", "fd00::1")).server().bindAddress())
        .isEqualTo("fd00::1");
    for (String bad :
        List.of("0.0.0.0:8443", "everywhere", "localhost", "10.1.2.256", "[fd00::1]")) {
      assertThatThrownBy(() -> WebhookConfig.fromEnv(Map.of("BIND_ADDRESS", bad)))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .containsExactly(
                          "BIND_ADDRESS='"
                              + bad
                              + "' is not valid: expected an IP address to listen on, e.g."
                              + " 0.0.0.0"));
    }
  }

  @Test
  void theSidecarsThreePortsMustDiffer() {
    assertThat(WebhookConfig.fromEnv(Map.of("SIDECAR_PEER_PORT", "7095")).sidecar().peerPort())
        .isEqualTo(7095);
    assertThatThrownBy(() -> WebhookConfig.fromEnv(Map.of("SIDECAR_PEER_PORT", "9091")))
        .hasMessageContaining("SIDECAR_GRPC_PORT and SIDECAR_PEER_PORT must differ, both are 9091");
    assertThatThrownBy(() -> WebhookConfig.fromEnv(Map.of("SIDECAR_PEER_PORT", "9090")))
        .hasMessageContaining(
            "SIDECAR_PEER_PORT and SIDECAR_METRICS_PORT must differ, both are 9090");
    assertThatThrownBy(() -> WebhookConfig.fromEnv(Map.of("SIDECAR_PEER_PORT", "65536")))
        .hasMessageContaining("SIDECAR_PEER_PORT='65536' is not valid");
  }

  @Test
  void limitsCanBeRemovedAndRequestsMustNotExceedThem() {
    WebhookConfig unlimited = WebhookConfig.fromEnv(Map.of("SIDECAR_MEMORY_LIMIT", "none"));

    assertThat(unlimited.sidecar().resources().memoryLimit()).isEmpty();
    assertThatThrownBy(
            () ->
                WebhookConfig.fromEnv(Map.of("SIDECAR_CPU_REQUEST", "2", "SIDECAR_CPU_LIMIT", "1")))
        .hasMessageContaining("SIDECAR_CPU_REQUEST (2) is above SIDECAR_CPU_LIMIT (1)");
  }
}

package io.conveyor.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {

  @Test
  void defaultsAreThoseOfTheDeployment() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("POD_NAME", "conveyor-operator-abc"));

    assertThat(config.identity()).isEqualTo("conveyor-operator-abc");
    assertThat(config.leaseNamespace()).isEqualTo("conveyor-system");
    assertThat(config.leaseName()).isEqualTo("conveyor-operator-leader");
    assertThat(config.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.renewDeadline()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.retryPeriod()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.routerPort()).isEqualTo(50051);
    assertThat(config.adminPort()).isEqualTo(8080);
    assertThat(config.watchesAllNamespaces()).isTrue();
    assertThat(config.routerWarmUp()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.router().warmUp()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.heartbeatStatusRefresh()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.router().missedHeartbeats()).isEqualTo(3);
    assertThat(config.router().subsetSize()).isEqualTo(16);
  }

  @Test
  void theEmbeddedRoutersSubsetSizeIsConfigurableAsTheStandaloneOnes() {
    assertThat(OperatorConfig.fromEnv(Map.of("ROUTER_SUBSET_SIZE", "4")).router().subsetSize())
        .isEqualTo(4);
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("ROUTER_SUBSET_SIZE", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ROUTER_SUBSET_SIZE='0'");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("ROUTER_SUBSET_SIZE", "1001")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ROUTER_SUBSET_SIZE='1001'");
  }

  @Test
  void theIdentityFallsBackToTheHostName() {
    assertThat(OperatorConfig.fromEnv(Map.of("HOSTNAME", "host-1")).identity()).isEqualTo("host-1");
    assertThat(OperatorConfig.fromEnv(Map.of()).identity()).startsWith("conveyor-operator-");
  }

  @Test
  void watchedNamespacesAreACommaSeparatedList() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("WATCH_NAMESPACES", " shop, billing ,"));

    assertThat(config.namespaces()).containsExactlyInAnyOrder("shop", "billing");
    assertThat(config.watchesAllNamespaces()).isFalse();
  }

  @Test
  void everyBadValueIsReportedWithItsVariable() {
    assertThatThrownBy(
            () ->
                OperatorConfig.fromEnv(
                    Map.of(
                        "ROUTER_PORT", "70000",
                        "WATCH_NAMESPACES", "shop,Not_A_Namespace",
                        "HEARTBEAT_STATUS_REFRESH_SECS", "5",
                        "LEASE_NAME", "UPPER",
                        "BIND_ADDRESS", "operator.local")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "BIND_ADDRESS='operator.local' is not valid: expected an IP address to listen on")
        .hasMessageContaining("ROUTER_PORT='70000'")
        .hasMessageContaining("Not_A_Namespace")
        .hasMessageContaining("HEARTBEAT_STATUS_REFRESH_SECS='5'")
        .hasMessageContaining("LEASE_NAME='UPPER'");
  }

  @Test
  void leaseTimingsMustLetTheLeaderStopBeforeAnotherMayTakeOver() {
    assertThatThrownBy(
            () ->
                OperatorConfig.fromEnv(
                    Map.of("LEASE_DURATION_SECS", "10", "LEASE_RENEW_DEADLINE_SECS", "10")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "LEASE_RENEW_DEADLINE_SECS (10) must be shorter than LEASE_DURATION_SECS (10)");
    assertThatThrownBy(
            () ->
                OperatorConfig.fromEnv(
                    Map.of("LEASE_RENEW_DEADLINE_SECS", "4", "LEASE_RETRY_PERIOD_MILLIS", "2000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("LEASE_RETRY_PERIOD_MILLIS (2000) is too long");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("ADMIN_PORT", "50051")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ROUTER_PORT and ADMIN_PORT must differ");
  }
}

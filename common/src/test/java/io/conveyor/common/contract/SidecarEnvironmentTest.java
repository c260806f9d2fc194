package io.conveyor.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.contract.SidecarEnvironment.Injection;
import org.junit.jupiter.api.Test;

/**
 * The contract's own shape. That the sidecar reads every variable with the documented default is
 * tested in the sidecar (SidecarConfigTest); that the injector writes what the sidecar parses, in
 * the webhook (InjectedEnvironmentTest).
 */
class SidecarEnvironmentTest {

  @Test
  void thePodsIdentityComesFromTheDownwardApiAndNothingElseDoes() {
    assertThat(SidecarEnvironment.all())
        .filteredOn(v -> v.injection() == Injection.DOWNWARD_API)
        .extracting(v -> v.variable() + "=" + v.downwardApiField().orElseThrow())
        .containsExactly(
            "POD_NAME=metadata.name",
            "NAMESPACE=metadata.namespace",
            "POD_IP=status.podIP",
            "POD_UID=metadata.uid");
    assertThat(SidecarEnvironment.all())
        .filteredOn(v -> v.injection() != Injection.DOWNWARD_API)
        .allSatisfy(v -> assertThat(v.downwardApiField()).as(v.variable()).isEmpty());
  }

  @Test
  void theInjectorMustGiveThePodsIdentityTheRouterItsIdentityThePortsAndTheCredentialFiles() {
    assertThat(SidecarEnvironment.requiredFromInjector())
        .extracting(SidecarEnvironment::variable)
        .containsExactly(
            "POD_NAME",
            "NAMESPACE",
            "POD_IP",
            "POD_UID",
            "CLUSTER_ENDPOINT",
            "GRPC_PORT",
            "PEER_PORT",
            "METRICS_PORT",
            "SERVICE_ACCOUNT_TOKEN_FILE",
            "TRUST_BUNDLE_FILE",
            "ROUTER_SERVICE_ACCOUNT");
  }

  @Test
  void theDesignTableHasItsDocumentedDefaults() {
    assertThat(SidecarEnvironment.all())
        .extracting(v -> v.variable() + "=" + v.defaultValue())
        .contains(
            "SIDECAR_ID=",
            "POD_NAME=unknown",
            "NAMESPACE=default",
            "CLUSTER_ENDPOINT=localhost:50051",
            "GRPC_PORT=9091",
            "PEER_PORT=9096",
            "METRICS_PORT=9090",
            "SECURITY_MODE=mtls",
            "ROUTER_SERVICE_ACCOUNT=conveyor-system/conveyor-operator",
            "DISCOVERY_START_PORT=50051",
            "DISCOVERY_END_PORT=50060",
            "HEARTBEAT_INTERVAL_SECS=5");
  }

  @Test
  void everyVariableSaysWhatItMeans() {
    assertThat(SidecarEnvironment.all())
        .allSatisfy(v -> assertThat(v.meaning()).as(v.variable()).isNotBlank());
  }

  @Test
  void variablesAreFoundByTheirName() {
    assertThat(SidecarEnvironment.named("GRPC_PORT")).contains(SidecarEnvironment.GRPC_PORT);
    assertThat(SidecarEnvironment.named("GRPC_PROT")).isEmpty();
    assertThat(SidecarEnvironment.named("grpc_port")).isEmpty();
  }

  @Test
  void theBootstrapTokenIsForStandaloneRunsAndNeverInjected() {
    // An injected pod enrols with its ServiceAccount token; the bootstrap token is set by hand.
    assertThat(SidecarEnvironment.BOOTSTRAP_TOKEN_FILE.injection())
        .isEqualTo(Injection.NOT_INJECTED);
    assertThat(SidecarEnvironment.BOOTSTRAP_TOKEN_FILE.defaultValue()).isEmpty();
    assertThat(SidecarEnvironment.BOOTSTRAP_TOKEN_FILE.meaning())
        .contains("standalone")
        .contains("SERVICE_ACCOUNT_TOKEN_FILE");
  }

  @Test
  void theSecurityModeIsNeverInjectedAndTheRoutersIdentityComesFromTheInjector() {
    // mTLS is the default an injected pod must keep; the router's identity is the installation's,
    // which the injector knows (an installation outside conveyor-system sets it there, once).
    assertThat(SidecarEnvironment.SECURITY_MODE.injection()).isEqualTo(Injection.NOT_INJECTED);
    assertThat(SidecarEnvironment.SECURITY_MODE.meaning()).contains("mtls").contains("plaintext");
    assertThat(SidecarEnvironment.ROUTER_SERVICE_ACCOUNT.injection()).isEqualTo(Injection.INJECTOR);
  }

  @Test
  void theTrustBundleIsReadAndReReadNow() {
    assertThat(SidecarEnvironment.TRUST_BUNDLE_FILE.meaning())
        .doesNotContain("not wired in")
        .contains("re-reads when it changes");
  }
}

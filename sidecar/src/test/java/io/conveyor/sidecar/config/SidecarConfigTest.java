package io.conveyor.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The sidecar's environment: defaults, parsing, and the error a user sees for each bad value. */
class SidecarConfigTest {

  /**
   * The contract of {@link SidecarEnvironment} against the parser: each variable it declares is one
   * the parser reads, and each default it documents is the one the parser uses.
   */
  @Nested
  class Contract {

    private static final long HEAP = 1L << 30;

    /** A fixed id, so that two parses of one environment compare equal. */
    private static final Map<String, String> BASE = Map.of("SIDECAR_ID", "sc-base");

    /** A valid value for each variable, different from its default, acceptable on its own. */
    private static final Map<SidecarEnvironment, String> SAMPLES =
        new EnumMap<>(SidecarEnvironment.class);

    static {
      SAMPLES.put(SidecarEnvironment.SIDECAR_ID, "sc-7f3a");
      SAMPLES.put(SidecarEnvironment.POD_NAME, "orders-5d9c7b-x2x8q");
      SAMPLES.put(SidecarEnvironment.NAMESPACE, "payments");
      SAMPLES.put(SidecarEnvironment.POD_IP, "10.244.1.17");
      SAMPLES.put(SidecarEnvironment.POD_UID, "0b9f6a6e-3c1e-4a8e-9d3c-2f1d4c5b6a7e");
      SAMPLES.put(SidecarEnvironment.CLUSTER_ENDPOINT, "conveyor-router.conveyor-system.svc:7000");
      SAMPLES.put(SidecarEnvironment.GRPC_PORT, "9191");
      SAMPLES.put(SidecarEnvironment.METRICS_PORT, "9190");
      SAMPLES.put(SidecarEnvironment.PEER_PORT, "9195");
      SAMPLES.put(SidecarEnvironment.SECURITY_MODE, "plaintext");
      SAMPLES.put(SidecarEnvironment.ROUTER_SERVICE_ACCOUNT, "ops/router");
      SAMPLES.put(
          SidecarEnvironment.TLS_PROVIDER,
          io.conveyor.identity.tls.TlsProvider.preferred()
                  == io.conveyor.identity.tls.TlsProvider.JDK
              ? "openssl"
              : "jdk");
      SAMPLES.put(SidecarEnvironment.DISCOVERY_START_PORT, "50052");
      SAMPLES.put(SidecarEnvironment.DISCOVERY_END_PORT, "50070");
      SAMPLES.put(SidecarEnvironment.HEARTBEAT_INTERVAL_SECS, "2");
      SAMPLES.put(SidecarEnvironment.ADVERTISE_HOST, "orders-0.orders.payments.svc");
      SAMPLES.put(SidecarEnvironment.BIND_ADDRESS, "127.0.0.1");
      SAMPLES.put(SidecarEnvironment.DISCOVERY_HOST, "localhost");
      SAMPLES.put(SidecarEnvironment.DISCOVERY_INTERVAL_SECS, "30");
      SAMPLES.put(SidecarEnvironment.DISCOVERY_PROBE_TIMEOUT_MS, "250");
      SAMPLES.put(SidecarEnvironment.MAX_INFLIGHT_BYTES, "64Mi");
      SAMPLES.put(SidecarEnvironment.PUSH_CREDITS, "32");
      SAMPLES.put(SidecarEnvironment.MAX_MESSAGE_BYTES, "8MiB");
      SAMPLES.put(SidecarEnvironment.SHUTDOWN_GRACE_SECS, "0");
      SAMPLES.put(
          SidecarEnvironment.SERVICE_ACCOUNT_TOKEN_FILE,
          "/var/run/secrets/conveyor.etl/serviceaccount/token");
      SAMPLES.put(
          SidecarEnvironment.TRUST_BUNDLE_FILE,
          "/var/run/secrets/conveyor.etl/trust-bundle/ca.crt");
      SAMPLES.put(SidecarEnvironment.BOOTSTRAP_TOKEN_FILE, "/etc/conveyor/bootstrap-token");
    }

    @ParameterizedTest
    @EnumSource(SidecarEnvironment.class)
    void everyVariableOfTheContractIsReadByTheParser(SidecarEnvironment variable) {
      String sample = SAMPLES.get(variable);
      assertThat(sample).as("a sample value of %s for this test", variable).isNotNull();
      Map<String, String> env = new HashMap<>(BASE);
      env.put(variable.variable(), sample);

      assertThat(SidecarConfig.fromEnv(env, HEAP))
          .as("%s=%s changes the configuration", variable, sample)
          .isNotEqualTo(SidecarConfig.fromEnv(BASE, HEAP));
    }

    static Stream<SidecarEnvironment> withALiteralDefault() {
      return SidecarEnvironment.all().stream().filter(v -> !v.defaultValue().isEmpty());
    }

    @ParameterizedTest
    @MethodSource("withALiteralDefault")
    void theDefaultTheContractDocumentsIsTheParsersDefault(SidecarEnvironment variable) {
      Map<String, String> env = new HashMap<>(BASE);
      env.put(variable.variable(), variable.defaultValue());

      assertThat(SidecarConfig.fromEnv(env, HEAP))
          .as("%s set to its documented default %s", variable, variable.defaultValue())
          .isEqualTo(SidecarConfig.fromEnv(BASE, HEAP));
    }

    @Test
    void variablesWithoutALiteralDefaultAreComputedOrEmpty() {
      SidecarConfig config = SidecarConfig.fromEnv(Map.of(), HEAP);

      assertThat(
              SidecarEnvironment.all().stream()
                  .filter(v -> v.defaultValue().isEmpty())
                  .map(SidecarEnvironment::variable))
          .containsExactly(
              "SIDECAR_ID",
              "POD_IP",
              "POD_UID",
              "ADVERTISE_HOST",
              "SERVICE_ACCOUNT_TOKEN_FILE",
              "BOOTSTRAP_TOKEN_FILE",
              "TRUST_BUNDLE_FILE",
              "TLS_PROVIDER");
      assertThat(config.bootstrapTokenFile()).isEmpty();
      assertThat(UUID.fromString(config.sidecarId())).isNotNull();
      assertThat(config.serviceAccountTokenFile()).isEmpty();
      assertThat(config.trustBundleFile()).isEmpty();
      assertThat(config.podIp()).isEmpty();
      assertThat(config.podUid()).isEmpty();
      assertThat(config.advertiseHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void theScanLimitIsTheContracts() {
      assertThat(SidecarConfig.MAX_DISCOVERY_PORTS)
          .isEqualTo(SidecarEnvironment.MAX_DISCOVERY_PORTS);
    }
  }

  @Nested
  class Defaults {

    private final SidecarConfig config = SidecarConfig.fromEnv(Map.of());

    @Test
    void theDesignTableVariablesHaveTheirDocumentedDefaults() {
      assertThat(UUID.fromString(config.sidecarId())).isNotNull();
      assertThat(config.podName()).isEqualTo("unknown");
      assertThat(config.namespace()).isEqualTo("default");
      assertThat(config.clusterEndpoint()).isEqualTo(new HostPort("localhost", 50051));
      assertThat(config.grpcPort()).isEqualTo(9091);
      assertThat(config.discoveryStartPort()).isEqualTo(50051);
      assertThat(config.discoveryEndPort()).isEqualTo(50060);
      assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void everySidecarGetsItsOwnGeneratedId() {
      assertThat(SidecarConfig.fromEnv(Map.of()).sidecarId()).isNotEqualTo(config.sidecarId());
    }

    @Test
    void theAdditionalSettingsHaveDefaultsThatSuitAPod() {
      assertThat(config.podUid()).isEmpty();
      assertThat(config.podIp()).isEmpty();
      assertThat(config.advertiseHost()).isEqualTo("127.0.0.1");
      assertThat(config.bindAddress()).isEqualTo("0.0.0.0");
      assertThat(config.metricsPort()).isEqualTo(9090);
      assertThat(config.discoveryHost()).isEqualTo("127.0.0.1");
      assertThat(config.discoveryInterval()).isEqualTo(Duration.ofSeconds(10));
      assertThat(config.probeTimeout()).isEqualTo(Duration.ofMillis(1000));
      assertThat(config.maxInFlightBytes()).isEqualTo(8L << 20);
      assertThat(config.pushCredits()).isEqualTo(8);
      assertThat(config.maxMessageBytes()).isEqualTo(4 << 20);
      assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(20));
      assertThat(config.dataPlaneEndpoint()).isEqualTo("127.0.0.1:9096");
      assertThat(config.peerPort()).isEqualTo(9096);
      assertThat(config.securityMode()).isEqualTo(SidecarConfig.SecurityMode.MTLS);
      assertThat(config.routerServiceAccount()).hasToString("conveyor-system/conveyor-operator");
    }

    @Test
    void blankValuesMeanTheDefault() {
      SidecarConfig blank =
          SidecarConfig.fromEnv(
              Map.of("GRPC_PORT", "", "NAMESPACE", "   ", "CLUSTER_ENDPOINT", " "));

      assertThat(blank.grpcPort()).isEqualTo(9091);
      assertThat(blank.namespace()).isEqualTo("default");
      assertThat(blank.clusterEndpoint()).isEqualTo(new HostPort("localhost", 50051));
    }
  }

  @Nested
  class Parsing {

    @Test
    void everyVariableIsRead() {
      Map<String, String> env = new HashMap<>();
      env.put("SIDECAR_ID", "sc-7f3a");
      env.put("POD_NAME", "orders-5d9c7b-x2x8q");
      env.put("NAMESPACE", "payments");
      env.put("CLUSTER_ENDPOINT", "conveyor-router.conveyor-system.svc:7000");
      env.put("GRPC_PORT", "9191");
      env.put("DISCOVERY_START_PORT", "8000");
      env.put("DISCOVERY_END_PORT", "8100");
      env.put("HEARTBEAT_INTERVAL_SECS", "2");
      env.put("POD_UID", "0b9f6a6e-3c1e-4a8e-9d3c-2f1d4c5b6a7e");
      env.put("POD_IP", "10.244.1.17");
      env.put("ADVERTISE_HOST", "orders-0.orders.payments.svc");
      env.put("BIND_ADDRESS", "127.0.0.1");
      env.put("METRICS_PORT", "9190");
      env.put("PEER_PORT", "9195");
      env.put("DISCOVERY_HOST", "localhost");
      env.put("DISCOVERY_INTERVAL_SECS", "30");
      env.put("DISCOVERY_PROBE_TIMEOUT_MS", "250");
      env.put("MAX_INFLIGHT_BYTES", "64Mi");
      env.put("PUSH_CREDITS", "32");
      env.put("MAX_MESSAGE_BYTES", "8MiB");
      env.put("SHUTDOWN_GRACE_SECS", "0");
      env.put("SERVICE_ACCOUNT_TOKEN_FILE", "/var/run/secrets/conveyor.etl/serviceaccount/token");
      env.put("TRUST_BUNDLE_FILE", "/var/run/secrets/conveyor.etl/trust-bundle/ca.crt");

      SidecarConfig config = SidecarConfig.fromEnv(env);

      assertThat(config)
          .isEqualTo(
              new SidecarConfig(
                  "sc-7f3a",
                  "orders-5d9c7b-x2x8q",
                  "payments",
                  new HostPort("conveyor-router.conveyor-system.svc", 7000),
                  9191,
                  8000,
                  8100,
                  Duration.ofSeconds(2),
                  "0b9f6a6e-3c1e-4a8e-9d3c-2f1d4c5b6a7e",
                  "10.244.1.17",
                  "orders-0.orders.payments.svc",
                  "127.0.0.1",
                  9190,
                  "localhost",
                  Duration.ofSeconds(30),
                  Duration.ofMillis(250),
                  64L << 20,
                  32,
                  8 << 20,
                  Duration.ZERO,
                  Optional.of(Path.of("/var/run/secrets/conveyor.etl/serviceaccount/token")),
                  Optional.of(Path.of("/var/run/secrets/conveyor.etl/trust-bundle/ca.crt")),
                  Optional.empty(),
                  9195,
                  SidecarConfig.SecurityMode.MTLS,
                  new SidecarConfig.ServiceAccountName("conveyor-system", "conveyor-operator"),
                  io.conveyor.identity.tls.TlsProvider.preferred()));
      // Other sidecars reach it on the peer port; GRPC_PORT is the pod's loopback only.
      assertThat(config.dataPlaneEndpoint()).isEqualTo("orders-0.orders.payments.svc:9195");
    }

    @Test
    void thePodIpIsAdvertisedWhenNoAdvertiseHostIsSet() {
      SidecarConfig config =
          SidecarConfig.fromEnv(Map.of("POD_IP", "10.244.1.17", "PEER_PORT", "9096"));

      assertThat(config.advertiseHost()).isEqualTo("10.244.1.17");
      assertThat(config.dataPlaneEndpoint()).isEqualTo("10.244.1.17:9096");
    }

    @Test
    void anIpv6PodIpIsAdvertisedInBrackets() {
      SidecarConfig config = SidecarConfig.fromEnv(Map.of("POD_IP", "fd00:10:244::17"));

      assertThat(config.dataPlaneEndpoint()).isEqualTo("[fd00:10:244::17]:9096");
    }

    @Test
    void theRouterMayBeGivenAsAGrpcTargetOrAnIpv6Address() {
      assertThat(
              SidecarConfig.fromEnv(Map.of("CLUSTER_ENDPOINT", "dns:///router.svc:50051"))
                  .clusterEndpoint())
          .isEqualTo(new HostPort("router.svc", 50051));
      assertThat(SidecarConfig.fromEnv(Map.of("CLUSTER_ENDPOINT", "[::1]:50051")).clusterEndpoint())
          .isEqualTo(new HostPort("::1", 50051));
    }

    @Test
    void valuesAreTrimmed() {
      SidecarConfig config =
          SidecarConfig.fromEnv(Map.of("GRPC_PORT", " 9191 ", "NAMESPACE", "payments\n"));

      assertThat(config.grpcPort()).isEqualTo(9191);
      assertThat(config.namespace()).isEqualTo("payments");
    }

    @Test
    void sizesTakeBinarySuffixes() {
      SidecarConfig config =
          SidecarConfig.fromEnv(
              Map.of("MAX_INFLIGHT_BYTES", "1Gi", "MAX_MESSAGE_BYTES", "512Ki"), 4L << 30);

      assertThat(config.maxInFlightBytes()).isEqualTo(1L << 30);
      assertThat(config.maxMessageBytes()).isEqualTo(512 << 10);
    }

    @Test
    void inFlightBytesMustFitInHalfTheHeap() {
      Map<String, String> env = Map.of("MAX_INFLIGHT_BYTES", "16Mi");

      assertThat(SidecarConfig.fromEnv(env, 32L << 20).maxInFlightBytes()).isEqualTo(16L << 20);
      assertThatThrownBy(() -> SidecarConfig.fromEnv(env, 24L << 20))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(
              "MAX_INFLIGHT_BYTES=16777216 is more than half of this JVM's maximum heap"
                  + " (25165824 bytes)")
          .hasMessageContaining("raise -Xmx");
    }

    @Test
    void theLargestScanRangeIsAccepted() {
      SidecarConfig config =
          SidecarConfig.fromEnv(
              Map.of(
                  "DISCOVERY_START_PORT",
                  "10000",
                  "DISCOVERY_END_PORT",
                  String.valueOf(10000 + SidecarConfig.MAX_DISCOVERY_PORTS - 1)));

      assertThat(config.discoveryEndPort() - config.discoveryStartPort() + 1)
          .isEqualTo(SidecarConfig.MAX_DISCOVERY_PORTS);
    }

    @Test
    void aSinglePortRangeIsAccepted() {
      SidecarConfig config =
          SidecarConfig.fromEnv(
              Map.of("DISCOVERY_START_PORT", "50052", "DISCOVERY_END_PORT", "50052"));

      assertThat(config.discoveryStartPort()).isEqualTo(config.discoveryEndPort());
    }
  }

  @Nested
  class MalformedValues {

    static Stream<Arguments> malformed() {
      return Stream.of(
          Arguments.of("SIDECAR_ID", "has space", "1-128 letters, digits"),
          Arguments.of("SIDECAR_ID", "-leading-dash", "1-128 letters, digits"),
          Arguments.of("SIDECAR_ID", "x".repeat(129), "1-128 letters, digits"),
          Arguments.of("POD_NAME", "Orders_Pod", "a pod name"),
          Arguments.of("NAMESPACE", "Payments", "a namespace name"),
          Arguments.of("NAMESPACE", "my namespace", "a namespace name"),
          Arguments.of("NAMESPACE", "n".repeat(64), "a namespace name"),
          Arguments.of("CLUSTER_ENDPOINT", "conveyor-router", "host:port"),
          Arguments.of("CLUSTER_ENDPOINT", "conveyor-router:grpc", "host:port"),
          Arguments.of("CLUSTER_ENDPOINT", "conveyor-router:0", "host:port"),
          Arguments.of("CLUSTER_ENDPOINT", "fd00::1:50051", "host:port"),
          Arguments.of("GRPC_PORT", "grpc", "an integer from 1 to 65535"),
          Arguments.of("GRPC_PORT", "0", "an integer from 1 to 65535"),
          Arguments.of("GRPC_PORT", "65536", "an integer from 1 to 65535"),
          Arguments.of("DISCOVERY_START_PORT", "-1", "an integer from 1 to 65535"),
          Arguments.of("DISCOVERY_END_PORT", "50060.5", "an integer from 1 to 65535"),
          Arguments.of("HEARTBEAT_INTERVAL_SECS", "0", "an integer from 1 to 300"),
          Arguments.of("HEARTBEAT_INTERVAL_SECS", "5s", "an integer from 1 to 300"),
          Arguments.of("HEARTBEAT_INTERVAL_SECS", "301", "an integer from 1 to 300"),
          Arguments.of("POD_IP", "pod-a", "an IPv4 or IPv6 address"),
          Arguments.of("POD_IP", "10.244.1.256", "an IPv4 or IPv6 address"),
          Arguments.of("POD_IP", "[fd00::1]", "an IPv4 or IPv6 address"),
          Arguments.of("ADVERTISE_HOST", "orders:9091", "a host name or an IP address"),
          Arguments.of("ADVERTISE_HOST", "[fd00::1]", "a host name or an IP address"),
          Arguments.of("ADVERTISE_HOST", "bad..name", "a host name or an IP address"),
          Arguments.of("BIND_ADDRESS", "0.0.0.0:9091", "an IP address to listen on"),
          Arguments.of("BIND_ADDRESS", "everywhere", "an IP address to listen on"),
          Arguments.of("METRICS_PORT", "http", "an integer from 1 to 65535"),
          Arguments.of("DISCOVERY_HOST", "local host", "a host name or an IP address"),
          Arguments.of("DISCOVERY_INTERVAL_SECS", "0", "an integer from 1 to 3600"),
          Arguments.of("DISCOVERY_PROBE_TIMEOUT_MS", "10", "an integer from 50 to 60000"),
          Arguments.of("DISCOVERY_PROBE_TIMEOUT_MS", "1s", "an integer from 50 to 60000"),
          Arguments.of("MAX_INFLIGHT_BYTES", "lots", "a size from 65536 to 17179869184 bytes"),
          Arguments.of("MAX_INFLIGHT_BYTES", "1Ki", "a size from 65536 to 17179869184 bytes"),
          Arguments.of("PUSH_CREDITS", "0", "an integer from 1 to 1024"),
          Arguments.of("PUSH_CREDITS", "1025", "an integer from 1 to 1024"),
          Arguments.of("MAX_MESSAGE_BYTES", "2Gi", "a size from 1024 to 1073741824 bytes"),
          Arguments.of("MAX_MESSAGE_BYTES", "4 megabytes", "a size from 1024 to 1073741824 bytes"),
          Arguments.of("SHUTDOWN_GRACE_SECS", "-1", "an integer from 0 to 3600"),
          Arguments.of("SERVICE_ACCOUNT_TOKEN_FILE", "token", "an absolute file path"),
          Arguments.of("TRUST_BUNDLE_FILE", "./ca.crt", "an absolute file path"),
          Arguments.of("BOOTSTRAP_TOKEN_FILE", "token", "an absolute file path"));
    }

    @Test
    void bothEnrolmentCredentialsAtOnceAreRefused() {
      ConfigException e =
          catchThrowableOfType(
              ConfigException.class,
              () ->
                  SidecarConfig.fromEnv(
                      Map.of(
                          "SERVICE_ACCOUNT_TOKEN_FILE", "/var/run/token",
                          "BOOTSTRAP_TOKEN_FILE", "/etc/conveyor/bootstrap-token")));

      assertThat(e).isNotNull();
      assertThat(e.problems())
          .singleElement()
          .asString()
          .contains("SERVICE_ACCOUNT_TOKEN_FILE and BOOTSTRAP_TOKEN_FILE are both set");
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("malformed")
    void isRefusedWithOneProblemNamingTheVariableTheValueAndWhatIsAccepted(
        String variable, String value, String accepted) {
      ConfigException e =
          catchThrowableOfType(
              ConfigException.class, () -> SidecarConfig.fromEnv(Map.of(variable, value)));

      assertThat(e).as("%s=%s must be refused", variable, value).isNotNull();
      assertThat(e.problems())
          .singleElement()
          .satisfies(
              problem -> {
                assertThat(problem).startsWith(variable + "='" + value + "'");
                assertThat(problem).contains("expected " + accepted);
              });
      assertThat(e.getMessage()).contains(variable);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {"::1", "fd00:10:244::17", "10.0.0.1", "localhost", "router_1", "a.b-c.d"})
    void hostsAndAddressesInTheirUsualFormsAreAccepted(String host) {
      assertThat(SidecarConfig.fromEnv(Map.of("DISCOVERY_HOST", host)).discoveryHost())
          .isEqualTo(host);
    }

    @Test
    void everyBadValueIsReportedAtOnce() {
      ConfigException e =
          catchThrowableOfType(
              ConfigException.class,
              () ->
                  SidecarConfig.fromEnv(
                      Map.of(
                          "GRPC_PORT", "grpc",
                          "HEARTBEAT_INTERVAL_SECS", "0",
                          "PUSH_CREDITS", "none",
                          "NAMESPACE", "Payments")));

      assertThat(e.problems())
          .hasSize(4)
          .anySatisfy(p -> assertThat(p).startsWith("GRPC_PORT="))
          .anySatisfy(p -> assertThat(p).startsWith("HEARTBEAT_INTERVAL_SECS="))
          .anySatisfy(p -> assertThat(p).startsWith("PUSH_CREDITS="))
          .anySatisfy(p -> assertThat(p).startsWith("NAMESPACE="));
      assertThat(e.getMessage())
          .contains("GRPC_PORT", "HEARTBEAT_INTERVAL_SECS", "PUSH_CREDITS", "NAMESPACE");
    }
  }

  @Nested
  class CrossFieldChecks {

    @Test
    void aScanRangeThatStartsAboveItsEndIsRefused() {
      assertThatThrownBy(
              () ->
                  SidecarConfig.fromEnv(
                      Map.of("DISCOVERY_START_PORT", "50060", "DISCOVERY_END_PORT", "50051")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .containsExactly(
                          "DISCOVERY_START_PORT=50060 is above DISCOVERY_END_PORT=50051: the scan range must be start <= end"));
    }

    @Test
    void aStartAboveTheDefaultEndIsRefused() {
      assertThatThrownBy(() -> SidecarConfig.fromEnv(Map.of("DISCOVERY_START_PORT", "50061")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .singleElement()
                      .asString()
                      .contains("DISCOVERY_END_PORT=50060"));
    }

    @Test
    void aScanRangeLargerThanTheLimitIsRefused() {
      assertThatThrownBy(
              () ->
                  SidecarConfig.fromEnv(
                      Map.of("DISCOVERY_START_PORT", "1", "DISCOVERY_END_PORT", "65535")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .singleElement()
                      .asString()
                      .contains("DISCOVERY_START_PORT..DISCOVERY_END_PORT spans 65535 ports")
                      .contains("at most 4096"));
    }

    @Test
    void theGrpcAndMetricsPortsMustDiffer() {
      assertThatThrownBy(() -> SidecarConfig.fromEnv(Map.of("GRPC_PORT", "9090")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .containsExactly("GRPC_PORT and METRICS_PORT must differ, both are 9090"));
    }

    @Test
    void aMalformedPortIsReportedAloneNotComparedThroughItsDefault() {
      // The default that stands in for a malformed value must not produce a second, bogus error.
      assertThatThrownBy(
              () ->
                  SidecarConfig.fromEnv(
                      Map.of("DISCOVERY_START_PORT", "start", "DISCOVERY_END_PORT", "8100")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .singleElement()
                      .asString()
                      .startsWith("DISCOVERY_START_PORT='start'"));
      assertThatThrownBy(
              () -> SidecarConfig.fromEnv(Map.of("GRPC_PORT", "grpc", "METRICS_PORT", "9091")))
          .isInstanceOfSatisfying(
              ConfigException.class,
              e ->
                  assertThat(e.problems())
                      .singleElement()
                      .asString()
                      .startsWith("GRPC_PORT='grpc'"));
    }
  }
}

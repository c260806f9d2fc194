package io.conveyor.sidecar.config;

import static io.conveyor.common.contract.SidecarEnvironment.ADVERTISE_HOST;
import static io.conveyor.common.contract.SidecarEnvironment.BIND_ADDRESS;
import static io.conveyor.common.contract.SidecarEnvironment.BOOTSTRAP_TOKEN_FILE;
import static io.conveyor.common.contract.SidecarEnvironment.CLUSTER_ENDPOINT;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_END_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_HOST;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_INTERVAL_SECS;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_PROBE_TIMEOUT_MS;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_START_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.GRPC_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.HEARTBEAT_INTERVAL_SECS;
import static io.conveyor.common.contract.SidecarEnvironment.MAX_INFLIGHT_BYTES;
import static io.conveyor.common.contract.SidecarEnvironment.MAX_MESSAGE_BYTES;
import static io.conveyor.common.contract.SidecarEnvironment.METRICS_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.NAMESPACE;
import static io.conveyor.common.contract.SidecarEnvironment.PEER_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.POD_IP;
import static io.conveyor.common.contract.SidecarEnvironment.POD_NAME;
import static io.conveyor.common.contract.SidecarEnvironment.POD_UID;
import static io.conveyor.common.contract.SidecarEnvironment.PUSH_CREDITS;
import static io.conveyor.common.contract.SidecarEnvironment.ROUTER_SERVICE_ACCOUNT;
import static io.conveyor.common.contract.SidecarEnvironment.SECURITY_MODE;
import static io.conveyor.common.contract.SidecarEnvironment.SERVICE_ACCOUNT_TOKEN_FILE;
import static io.conveyor.common.contract.SidecarEnvironment.SHUTDOWN_GRACE_SECS;
import static io.conveyor.common.contract.SidecarEnvironment.SIDECAR_ID;
import static io.conveyor.common.contract.SidecarEnvironment.TLS_PROVIDER;
import static io.conveyor.common.contract.SidecarEnvironment.TRUST_BUNDLE_FILE;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.identity.tls.TlsProvider;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Everything the sidecar is configured with, read once from the environment at start. The
 * variables, their meanings and defaults are the contract declared in {@link SidecarEnvironment};
 * this record parses them into typed values and refuses malformed ones.
 *
 * @param sidecarId {@link SidecarEnvironment#SIDECAR_ID}
 * @param podName {@link SidecarEnvironment#POD_NAME}
 * @param namespace {@link SidecarEnvironment#NAMESPACE}
 * @param clusterEndpoint {@link SidecarEnvironment#CLUSTER_ENDPOINT}
 * @param grpcPort {@link SidecarEnvironment#GRPC_PORT}
 * @param discoveryStartPort {@link SidecarEnvironment#DISCOVERY_START_PORT}
 * @param discoveryEndPort {@link SidecarEnvironment#DISCOVERY_END_PORT}
 * @param heartbeatInterval {@link SidecarEnvironment#HEARTBEAT_INTERVAL_SECS}
 * @param podUid {@link SidecarEnvironment#POD_UID}
 * @param podIp {@link SidecarEnvironment#POD_IP}
 * @param advertiseHost {@link SidecarEnvironment#ADVERTISE_HOST}
 * @param bindAddress {@link SidecarEnvironment#BIND_ADDRESS}
 * @param metricsPort {@link SidecarEnvironment#METRICS_PORT}
 * @param discoveryHost {@link SidecarEnvironment#DISCOVERY_HOST}
 * @param discoveryInterval {@link SidecarEnvironment#DISCOVERY_INTERVAL_SECS}
 * @param probeTimeout {@link SidecarEnvironment#DISCOVERY_PROBE_TIMEOUT_MS}
 * @param maxInFlightBytes {@link SidecarEnvironment#MAX_INFLIGHT_BYTES}
 * @param pushCredits {@link SidecarEnvironment#PUSH_CREDITS}
 * @param maxMessageBytes {@link SidecarEnvironment#MAX_MESSAGE_BYTES}
 * @param shutdownGrace {@link SidecarEnvironment#SHUTDOWN_GRACE_SECS}
 * @param serviceAccountTokenFile {@link SidecarEnvironment#SERVICE_ACCOUNT_TOKEN_FILE}; only a path
 *     until enrolment is wired in
 * @param trustBundleFile {@link SidecarEnvironment#TRUST_BUNDLE_FILE}; only a path until mutual TLS
 *     is wired in
 * @param bootstrapTokenFile {@link SidecarEnvironment#BOOTSTRAP_TOKEN_FILE}; never together with
 *     {@code serviceAccountTokenFile}
 * @param peerPort {@link SidecarEnvironment#PEER_PORT}
 * @param securityMode {@link SidecarEnvironment#SECURITY_MODE}
 * @param routerServiceAccount {@link SidecarEnvironment#ROUTER_SERVICE_ACCOUNT}, as namespace and
 *     name
 * @param tlsProvider {@link SidecarEnvironment#TLS_PROVIDER}
 */
public record SidecarConfig(
    String sidecarId,
    String podName,
    String namespace,
    HostPort clusterEndpoint,
    int grpcPort,
    int discoveryStartPort,
    int discoveryEndPort,
    Duration heartbeatInterval,
    String podUid,
    String podIp,
    String advertiseHost,
    String bindAddress,
    int metricsPort,
    String discoveryHost,
    Duration discoveryInterval,
    Duration probeTimeout,
    long maxInFlightBytes,
    int pushCredits,
    int maxMessageBytes,
    Duration shutdownGrace,
    Optional<Path> serviceAccountTokenFile,
    Optional<Path> trustBundleFile,
    Optional<Path> bootstrapTokenFile,
    int peerPort,
    SecurityMode securityMode,
    ServiceAccountName routerServiceAccount,
    TlsProvider tlsProvider) {

  /** Whether the sidecar's hops run mutual TLS. */
  public enum SecurityMode {
    /** A certificate from the Conveyor CA on every hop between sidecars and to the router. */
    MTLS,
    /** No TLS and no identities: every caller trusted. For a laptop only. */
    PLAINTEXT
  }

  /** A Kubernetes service account, {@code namespace/name}. */
  public record ServiceAccountName(String namespace, String name) {
    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  /** Larger scan ranges are refused: a pod runs a handful of services, not thousands. */
  public static final int MAX_DISCOVERY_PORTS = SidecarEnvironment.MAX_DISCOVERY_PORTS;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Kubernetes namespace names (DNS-1123 label): what pipelines are matched on, so exact. */
  private static final Pattern NAMESPACE_NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Kubernetes pod names (DNS-1123 subdomain). */
  private static final Pattern POD_NAME_FORM =
      Pattern.compile(
          "(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static final Pattern HOST_NAME =
      Pattern.compile(
          "(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");

  /** Reads and validates the configuration; throws a ConfigException naming every bad variable. */
  public static SidecarConfig fromEnv(Map<String, String> env) {
    return fromEnv(env, Runtime.getRuntime().maxMemory());
  }

  /**
   * As {@link #fromEnv(Map)}, for a JVM whose maximum heap is {@code maxHeapBytes}: batches in
   * flight live on the heap, so {@code MAX_INFLIGHT_BYTES} must leave room for everything else.
   */
  static SidecarConfig fromEnv(Map<String, String> env, long maxHeapBytes) {
    EnvReader r = new EnvReader(env);
    String sidecarId =
        r.matching(
            SIDECAR_ID.variable(),
            UUID.randomUUID().toString(),
            ID,
            "1-128 letters, digits, '.', '_' or '-'");
    String podName =
        r.matching(
            POD_NAME.variable(),
            "unknown",
            POD_NAME_FORM,
            "a pod name: lower-case letters, digits, '-' and '.'");
    String namespace =
        r.matching(
            NAMESPACE.variable(),
            "default",
            NAMESPACE_NAME,
            "a namespace name: 1-63 lower-case letters, digits or '-'");
    HostPort clusterEndpoint = r.hostPort(CLUSTER_ENDPOINT.variable(), "localhost:50051");
    // Cross-field checks below only compare values the user actually gave correctly: a malformed
    // value has been replaced by its default, and comparing that would report a bogus second error.
    int before = r.problems().size();
    int grpcPort = r.port(GRPC_PORT.variable(), 9091);
    boolean grpcPortValid = r.problems().size() == before;
    before = r.problems().size();
    int start = r.port(DISCOVERY_START_PORT.variable(), 50051);
    int end = r.port(DISCOVERY_END_PORT.variable(), 50060);
    boolean rangeValid = r.problems().size() == before;
    Duration heartbeat =
        r.seconds(HEARTBEAT_INTERVAL_SECS.variable(), Duration.ofSeconds(5), 1, 300);
    String podUid = r.string(POD_UID.variable(), "");
    String podIp =
        validated(
            r,
            POD_IP.variable(),
            "",
            EnvReader::isIpLiteral,
            "an IPv4 or IPv6 address, e.g. 10.1.2.3");
    String advertise =
        validated(
            r,
            ADVERTISE_HOST.variable(),
            podIp.isEmpty() ? "127.0.0.1" : podIp,
            SidecarConfig::isHost,
            "a host name or an IP address (IPv6 without brackets)");
    String bind =
        validated(
            r,
            BIND_ADDRESS.variable(),
            "0.0.0.0",
            EnvReader::isIpLiteral,
            "an IP address to listen on, e.g. 0.0.0.0");
    before = r.problems().size();
    int metricsPort = r.port(METRICS_PORT.variable(), 9090);
    boolean metricsPortValid = r.problems().size() == before;
    String discoveryHost =
        validated(
            r,
            DISCOVERY_HOST.variable(),
            "127.0.0.1",
            SidecarConfig::isHost,
            "a host name or an IP address (IPv6 without brackets)");
    Duration discoveryInterval =
        r.seconds(DISCOVERY_INTERVAL_SECS.variable(), Duration.ofSeconds(10), 1, 3600);
    Duration probeTimeout =
        r.millis(DISCOVERY_PROBE_TIMEOUT_MS.variable(), Duration.ofMillis(1000), 50, 60_000);
    long maxInFlight = r.bytes(MAX_INFLIGHT_BYTES.variable(), 8L << 20, 64L << 10, 1L << 34);
    int credits = r.integer(PUSH_CREDITS.variable(), 8, 1, 1024);
    int maxMessage = (int) r.bytes(MAX_MESSAGE_BYTES.variable(), 4L << 20, 1L << 10, 1L << 30);
    Duration grace = r.seconds(SHUTDOWN_GRACE_SECS.variable(), Duration.ofSeconds(20), 0, 3600);
    Optional<Path> tokenFile = absolutePath(r, SERVICE_ACCOUNT_TOKEN_FILE.variable());
    Optional<Path> trustBundle = absolutePath(r, TRUST_BUNDLE_FILE.variable());
    Optional<Path> bootstrapToken = absolutePath(r, BOOTSTRAP_TOKEN_FILE.variable());
    if (tokenFile.isPresent() && bootstrapToken.isPresent()) {
      // One credential per enrolment (the CA takes exactly one): which to send must not be a guess.
      r.problem(
          SERVICE_ACCOUNT_TOKEN_FILE
              + " and "
              + BOOTSTRAP_TOKEN_FILE
              + " are both set: set one, the ServiceAccount token in a cluster, the bootstrap"
              + " token standalone");
    }

    if (rangeValid && start > end) {
      r.problem(
          DISCOVERY_START_PORT
              + "="
              + start
              + " is above "
              + DISCOVERY_END_PORT
              + "="
              + end
              + ": the scan range must be start <= end");
    } else if (rangeValid && end - start + 1 > MAX_DISCOVERY_PORTS) {
      r.problem(
          DISCOVERY_START_PORT
              + ".."
              + DISCOVERY_END_PORT
              + " spans "
              + (end - start + 1)
              + " ports: at most "
              + MAX_DISCOVERY_PORTS
              + " are scanned");
    }
    if (maxInFlight > maxHeapBytes / 2) {
      r.problem(
          MAX_INFLIGHT_BYTES
              + "="
              + maxInFlight
              + " is more than half of this JVM's maximum heap ("
              + maxHeapBytes
              + " bytes), which holds the batches in flight: lower it, or raise -Xmx"
              + " (sidecar/jvm.options) so that the heap is more than twice its value");
    }
    if (grpcPortValid && metricsPortValid && grpcPort == metricsPort) {
      r.problem(GRPC_PORT + " and " + METRICS_PORT + " must differ, both are " + grpcPort);
    }
    before = r.problems().size();
    int peerPort = r.port(PEER_PORT.variable(), 9096);
    if (r.problems().size() == before
        && ((grpcPortValid && peerPort == grpcPort)
            || (metricsPortValid && peerPort == metricsPort))) {
      r.problem(
          PEER_PORT
              + "="
              + peerPort
              + " must differ from "
              + GRPC_PORT
              + " and "
              + METRICS_PORT
              + ": each is a listener of its own");
    }
    SecurityMode securityMode =
        r.enumValue(SECURITY_MODE.variable(), SecurityMode.MTLS, SecurityMode.class);
    ServiceAccountName routerAccount = serviceAccount(r, ROUTER_SERVICE_ACCOUNT.variable());
    TlsProvider tlsProvider = TlsProvider.preferred();
    try {
      tlsProvider = TlsProvider.parse(r.raw(TLS_PROVIDER.variable()).orElse(""));
    } catch (IllegalArgumentException e) {
      r.problem(TLS_PROVIDER + ": " + e.getMessage());
    }
    r.validate();
    return new SidecarConfig(
        sidecarId,
        podName,
        namespace,
        clusterEndpoint,
        grpcPort,
        start,
        end,
        heartbeat,
        podUid,
        podIp,
        advertise,
        bind,
        metricsPort,
        discoveryHost,
        discoveryInterval,
        probeTimeout,
        maxInFlight,
        credits,
        maxMessage,
        grace,
        tokenFile,
        trustBundle,
        bootstrapToken,
        peerPort,
        securityMode,
        routerAccount,
        tlsProvider);
  }

  /** {@code namespace/name}, both Kubernetes names. */
  private static ServiceAccountName serviceAccount(EnvReader r, String name) {
    String value = r.raw(name).orElse(SidecarEnvironment.ROUTER_SERVICE_ACCOUNT.defaultValue());
    int slash = value.indexOf('/');
    if (slash > 0
        && NAMESPACE_NAME.matcher(value.substring(0, slash)).matches()
        && POD_NAME_FORM.matcher(value.substring(slash + 1)).matches()) {
      return new ServiceAccountName(value.substring(0, slash), value.substring(slash + 1));
    }
    r.problem(
        name + "='" + value + "' is not valid: expected namespace/name, e.g. conveyor-system/x");
    return new ServiceAccountName("conveyor-system", "conveyor-operator");
  }

  /** An optional file the sidecar is handed by path; relative paths are refused, cwd is no API. */
  private static Optional<Path> absolutePath(EnvReader r, String name) {
    Optional<String> value = r.raw(name);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    try {
      Path path = Path.of(value.get());
      if (path.isAbsolute()) {
        return Optional.of(path.normalize());
      }
    } catch (InvalidPathException e) {
      // reported below, like any other malformed value
    }
    r.problem(name + "='" + value.get() + "' is not valid: expected an absolute file path");
    return Optional.empty();
  }

  /** A value that must satisfy {@code valid}; reported like EnvReader's own problems. */
  private static String validated(
      EnvReader r, String name, String defaultValue, Predicate<String> valid, String accepted) {
    Optional<String> value = r.raw(name);
    if (value.isEmpty()) {
      return defaultValue;
    }
    if (valid.test(value.get())) {
      return value.get();
    }
    r.problem(name + "='" + value.get() + "' is not valid: expected " + accepted);
    return defaultValue;
  }

  static boolean isHost(String value) {
    return EnvReader.isIpLiteral(value)
        || (HOST_NAME.matcher(value).matches() && !value.contains(":"));
  }

  /** host:port other sidecars dial to reach this one. */
  public String dataPlaneEndpoint() {
    return new HostPort(advertiseHost, peerPort).toString();
  }
}

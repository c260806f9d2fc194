package io.conveyor.common.contract;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The sidecar's environment contract, declared once: every variable the sidecar reads at start. The
 * sidecar's configuration reads through these constants, the injector writes the sidecar
 * container's environment through them and the local launchers set them through them, so that a
 * variable cannot be spelled one way by the writer and another by the reader.
 *
 * <p>The injector sets one variable besides, which is the JVM's and not the sidecar's: {@code
 * JDK_JAVA_OPTIONS}, the pod's JIT profile ({@link SidecarProfile}).
 *
 * <p>A variable's name is its constant's name: renaming a constant renames the variable for every
 * pod spec, manifest and script that sets it, a breaking change.
 *
 * <p>Each variable says how an injected pod gets it ({@link Injection}), what it means and its
 * default: the value the sidecar uses when the variable is absent or blank, written as one would
 * set it, or empty when the sidecar computes it (the meaning then says how). The limits of each
 * value and the message for a malformed one are the sidecar's configuration parser's.
 */
public enum SidecarEnvironment {
  SIDECAR_ID(
      Injection.NOT_INJECTED,
      "",
      "unique id the router knows this sidecar by, 1-128 letters, digits, '.', '_' or '-';"
          + " a random UUID at every start when unset"),
  POD_NAME("metadata.name", "unknown", "the pod's name"),
  NAMESPACE(
      "metadata.namespace",
      "default",
      "the pod's namespace: pipelines only use services of their own namespace"),
  POD_IP(
      "status.podIP",
      "",
      "the pod's IP address (IPv4 or IPv6), advertised to other sidecars; empty when unknown"),
  POD_UID(
      "metadata.uid",
      "",
      "the pod's UID, the pod's identity (a StatefulSet's pods reuse names); empty when unknown"),
  CLUSTER_ENDPOINT(
      Injection.INJECTOR,
      "localhost:50051",
      "the router, host:port or [IPv6]:port, optionally prefixed dns:///"),
  GRPC_PORT(
      Injection.INJECTOR,
      "9091",
      "port of the local listener, bound to 127.0.0.1 only and plaintext, for the pod's own apps:"
          + " PushRecords, health and reflection"),
  PEER_PORT(
      Injection.INJECTOR,
      "9096",
      "port other sidecars reach this one on, mutual TLS (plaintext only under"
          + " SECURITY_MODE=plaintext); advertised to the router"),
  METRICS_PORT(
      Injection.INJECTOR,
      "9090",
      "admin HTTP port: /metrics, /healthz, /readyz (the kubelet's probes); not GRPC_PORT or"
          + " PEER_PORT"),
  DISCOVERY_START_PORT(
      Injection.ON_ANNOTATION,
      "50051",
      "first loopback port scanned for the pod's services; at most "
          + SidecarEnvironment.MAX_DISCOVERY_PORTS
          + " ports up to DISCOVERY_END_PORT"),
  DISCOVERY_END_PORT(
      Injection.ON_ANNOTATION,
      "50060",
      "last loopback port scanned for the pod's services, not below DISCOVERY_START_PORT"),
  HEARTBEAT_INTERVAL_SECS(
      Injection.NOT_INJECTED,
      "5",
      "seconds between heartbeats, 1-300, proposed to the router; its registration reply may set another"),
  ADVERTISE_HOST(
      Injection.NOT_INJECTED,
      "",
      "host (name or IP, IPv6 without brackets) other sidecars dial to reach this one;"
          + " POD_IP when unset, else 127.0.0.1"),
  BIND_ADDRESS(
      Injection.NOT_INJECTED,
      "0.0.0.0",
      "IP address the sidecar's peer listener (PEER_PORT) and admin HTTP server listen on;"
          + " GRPC_PORT listens on 127.0.0.1 whatever this says"),
  DISCOVERY_HOST(
      Injection.NOT_INJECTED, "127.0.0.1", "host the discovery scan probes: the pod's loopback"),
  DISCOVERY_INTERVAL_SECS(
      Injection.NOT_INJECTED, "10", "seconds between re-discoveries of the pod's services, 1-3600"),
  DISCOVERY_PROBE_TIMEOUT_MS(
      Injection.NOT_INJECTED, "1000", "deadline of the probe of one port, 50-60000 ms"),
  MAX_INFLIGHT_BYTES(
      Injection.NOT_INJECTED,
      "8Mi",
      "bound on the bytes of batches held at once (e.g. 64Mi); at most half the JVM's heap"),
  PUSH_CREDITS(
      Injection.NOT_INJECTED,
      "8",
      "batches a local source may have unacknowledged on one PushRecords stream, 1-1024"),
  MAX_MESSAGE_BYTES(
      Injection.NOT_INJECTED, "4Mi", "largest gRPC message accepted, 1Ki-1Gi (e.g. 512Ki)"),
  SHUTDOWN_GRACE_SECS(
      Injection.NOT_INJECTED,
      "20",
      "seconds a stopping sidecar gives in-flight batches to finish, 0-3600"),
  SERVICE_ACCOUNT_TOKEN_FILE(
      Injection.INJECTOR,
      "",
      "absolute path of the pod's projected ServiceAccount token (audience conveyor.etl), which"
          + " the kubelet rotates: the sidecar's credential at enrolment, re-read at every"
          + " attempt; none when unset, as in standalone mode"),
  BOOTSTRAP_TOKEN_FILE(
      Injection.NOT_INJECTED,
      "",
      "absolute path of the bootstrap token the standalone router was given: the sidecar's"
          + " credential at enrolment outside a cluster, re-read at every attempt; not with"
          + " SERVICE_ACCOUNT_TOKEN_FILE; none when unset"),
  TRUST_BUNDLE_FILE(
      Injection.INJECTOR,
      "",
      "absolute path of the Conveyor trust bundle (PEM CA certificates, from the ConfigMap"
          + " conveyor-trust-bundle), which the sidecar re-reads when it changes (the kubelet"
          + " refreshes it); required under SECURITY_MODE=mtls"),
  SECURITY_MODE(
      Injection.NOT_INJECTED,
      "mtls",
      "mtls (default): a certificate from the Conveyor CA on every hop between sidecars and to"
          + " the router; plaintext: none, for laptops only, with a warning"),
  ROUTER_SERVICE_ACCOUNT(
      Injection.INJECTOR,
      "conveyor-system/conveyor-operator",
      "namespace/name of the service account the router's certificate must name: the sidecar"
          + " talks to no other router; the injector gives its own ROUTER_SERVICE_ACCOUNT, so an"
          + " installation outside conveyor-system names its operator once"),
  TLS_PROVIDER(
      Injection.NOT_INJECTED,
      "",
      "openssl (BoringSSL) or jdk: the TLS implementation of the gRPC hops; BoringSSL where it"
          + " loads when unset");

  /** The widest discovery scan accepted: a pod runs a handful of services, not thousands. */
  public static final int MAX_DISCOVERY_PORTS = 4096;

  /** How an injected sidecar container gets a variable. */
  public enum Injection {
    /** Always injected, as a downward-API {@code fieldRef} to the pod's own field. */
    DOWNWARD_API,
    /** Always injected, from the injector's settings or the pod's override annotation. */
    INJECTOR,
    /** Injected only when the pod's annotation asks for a value; the default applies otherwise. */
    ON_ANNOTATION,
    /** Never injected: the default suits a pod; local runs and tests set it by hand. */
    NOT_INJECTED;

    /** Whether every injected container must carry the variable. */
    public boolean required() {
      return this == DOWNWARD_API || this == INJECTOR;
    }
  }

  private final Injection injection;
  private final Optional<String> downwardApiField;
  private final String defaultValue;
  private final String meaning;

  /** A variable injected from the pod's field {@code fieldPath} through the downward API. */
  SidecarEnvironment(String fieldPath, String defaultValue, String meaning) {
    this(Injection.DOWNWARD_API, Optional.of(fieldPath), defaultValue, meaning);
  }

  SidecarEnvironment(Injection injection, String defaultValue, String meaning) {
    this(injection, Optional.empty(), defaultValue, meaning);
  }

  SidecarEnvironment(
      Injection injection, Optional<String> downwardApiField, String defaultValue, String meaning) {
    this.injection = Objects.requireNonNull(injection, "injection");
    this.downwardApiField = downwardApiField;
    this.defaultValue = Objects.requireNonNull(defaultValue, "defaultValue");
    this.meaning = Objects.requireNonNull(meaning, "meaning");
  }

  /** The environment variable's name. */
  public String variable() {
    return name();
  }

  public Injection injection() {
    return injection;
  }

  /**
   * The pod field ({@code metadata.name}, {@code status.podIP}, ...) the injector refers to, for
   * the variables injected through the downward API.
   */
  public Optional<String> downwardApiField() {
    return downwardApiField;
  }

  /** The value used when the variable is absent or blank; empty when the sidecar computes it. */
  public String defaultValue() {
    return defaultValue;
  }

  public String meaning() {
    return meaning;
  }

  /** Every variable, in declaration order. */
  public static List<SidecarEnvironment> all() {
    return List.of(values());
  }

  /** The variables every injected sidecar container must carry. */
  public static List<SidecarEnvironment> requiredFromInjector() {
    return Arrays.stream(values()).filter(v -> v.injection.required()).toList();
  }

  /** The variable called {@code name}, if the sidecar reads one by that name. */
  public static Optional<SidecarEnvironment> named(String name) {
    return Arrays.stream(values()).filter(v -> v.name().equals(name)).findFirst();
  }
}

package io.conveyor.sidecar.config;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Everything the sidecar is configured with, read once from the environment at start. The first
 * eight variables are the contract of the design; the rest have defaults that suit a pod.
 *
 * @param sidecarId {@code SIDECAR_ID}: unique id; a random UUID by default
 * @param podName {@code POD_NAME}: the pod's name (downward API); {@code unknown}
 * @param namespace {@code NAMESPACE}: the pod's namespace; {@code default}
 * @param clusterEndpoint {@code CLUSTER_ENDPOINT}: the router; {@code localhost:50051}
 * @param grpcPort {@code GRPC_PORT}: data plane and health; {@code 9091}
 * @param discoveryStartPort {@code DISCOVERY_START_PORT}: first port scanned; {@code 50051}
 * @param discoveryEndPort {@code DISCOVERY_END_PORT}: last port scanned; {@code 50060}
 * @param heartbeatInterval {@code HEARTBEAT_INTERVAL_SECS}: heartbeat period; {@code 5}
 * @param podUid {@code POD_UID}: the pod's UID (downward API); empty
 * @param podIp {@code POD_IP}: the pod's IP (downward API); empty
 * @param advertiseHost {@code ADVERTISE_HOST}: host other sidecars dial; POD_IP, else 127.0.0.1
 * @param bindAddress {@code BIND_ADDRESS}: where the servers listen; {@code 0.0.0.0}
 * @param metricsPort {@code METRICS_PORT}: /metrics, /healthz, /readyz; {@code 9090}
 * @param discoveryHost {@code DISCOVERY_HOST}: the pod's loopback; {@code 127.0.0.1}
 * @param discoveryInterval {@code DISCOVERY_INTERVAL_SECS}: re-discovery period; {@code 10}
 * @param probeTimeout {@code DISCOVERY_PROBE_TIMEOUT_MS}: deadline per port; {@code 1000}
 * @param maxInFlightBytes {@code MAX_INFLIGHT_BYTES}: bound on batch bytes held; {@code 8Mi}
 * @param pushCredits {@code PUSH_CREDITS}: batches a source may have unacknowledged; {@code 8}
 * @param maxMessageBytes {@code MAX_MESSAGE_BYTES}: largest gRPC message accepted; {@code 4Mi}
 * @param shutdownGrace {@code SHUTDOWN_GRACE_SECS}: time to finish in-flight batches; {@code 20}
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
    Duration shutdownGrace) {

  /** Larger scan ranges are refused: a pod runs a handful of services, not thousands. */
  public static final int MAX_DISCOVERY_PORTS = 4096;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Kubernetes namespace names (DNS-1123 label): what pipelines are matched on, so exact. */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Kubernetes pod names (DNS-1123 subdomain). */
  private static final Pattern POD_NAME =
      Pattern.compile(
          "(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
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
            "SIDECAR_ID",
            UUID.randomUUID().toString(),
            ID,
            "1-128 letters, digits, '.', '_' or '-'");
    String podName =
        r.matching(
            "POD_NAME", "unknown", POD_NAME, "a pod name: lower-case letters, digits, '-' and '.'");
    String namespace =
        r.matching(
            "NAMESPACE",
            "default",
            NAMESPACE,
            "a namespace name: 1-63 lower-case letters, digits or '-'");
    HostPort clusterEndpoint = r.hostPort("CLUSTER_ENDPOINT", "localhost:50051");
    // Cross-field checks below only compare values the user actually gave correctly: a malformed
    // value has been replaced by its default, and comparing that would report a bogus second error.
    int before = r.problems().size();
    int grpcPort = r.port("GRPC_PORT", 9091);
    boolean grpcPortValid = r.problems().size() == before;
    before = r.problems().size();
    int start = r.port("DISCOVERY_START_PORT", 50051);
    int end = r.port("DISCOVERY_END_PORT", 50060);
    boolean rangeValid = r.problems().size() == before;
    Duration heartbeat = r.seconds("HEARTBEAT_INTERVAL_SECS", Duration.ofSeconds(5), 1, 300);
    String podUid = r.string("POD_UID", "");
    String podIp =
        validated(
            r, "POD_IP", "", SidecarConfig::isIpLiteral, "an IPv4 or IPv6 address, e.g. 10.1.2.3");
    String advertise =
        validated(
            r,
            "ADVERTISE_HOST",
            podIp.isEmpty() ? "127.0.0.1" : podIp,
            SidecarConfig::isHost,
            "a host name or an IP address (IPv6 without brackets)");
    String bind =
        validated(
            r,
            "BIND_ADDRESS",
            "0.0.0.0",
            SidecarConfig::isIpLiteral,
            "an IP address to listen on, e.g. 0.0.0.0");
    before = r.problems().size();
    int metricsPort = r.port("METRICS_PORT", 9090);
    boolean metricsPortValid = r.problems().size() == before;
    String discoveryHost =
        validated(
            r,
            "DISCOVERY_HOST",
            "127.0.0.1",
            SidecarConfig::isHost,
            "a host name or an IP address (IPv6 without brackets)");
    Duration discoveryInterval =
        r.seconds("DISCOVERY_INTERVAL_SECS", Duration.ofSeconds(10), 1, 3600);
    Duration probeTimeout =
        r.millis("DISCOVERY_PROBE_TIMEOUT_MS", Duration.ofMillis(1000), 50, 60_000);
    long maxInFlight = r.bytes("MAX_INFLIGHT_BYTES", 8L << 20, 64L << 10, 1L << 34);
    int credits = r.integer("PUSH_CREDITS", 8, 1, 1024);
    int maxMessage = (int) r.bytes("MAX_MESSAGE_BYTES", 4L << 20, 1L << 10, 1L << 30);
    Duration grace = r.seconds("SHUTDOWN_GRACE_SECS", Duration.ofSeconds(20), 0, 3600);

    if (rangeValid && start > end) {
      r.problem(
          "DISCOVERY_START_PORT="
              + start
              + " is above DISCOVERY_END_PORT="
              + end
              + ": the scan range must be start <= end");
    } else if (rangeValid && end - start + 1 > MAX_DISCOVERY_PORTS) {
      r.problem(
          "DISCOVERY_START_PORT..DISCOVERY_END_PORT spans "
              + (end - start + 1)
              + " ports: at most "
              + MAX_DISCOVERY_PORTS
              + " are scanned");
    }
    if (maxInFlight > maxHeapBytes / 2) {
      r.problem(
          "MAX_INFLIGHT_BYTES="
              + maxInFlight
              + " is more than half of this JVM's maximum heap ("
              + maxHeapBytes
              + " bytes), which holds the batches in flight: lower it, or raise -Xmx"
              + " (sidecar/jvm.options) so that the heap is more than twice its value");
    }
    if (grpcPortValid && metricsPortValid && grpcPort == metricsPort) {
      r.problem("GRPC_PORT and METRICS_PORT must differ, both are " + grpcPort);
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
        grace);
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

  static boolean isIpLiteral(String value) {
    if (IPV4.matcher(value).matches()) {
      return true;
    }
    if (!value.contains(":") || !IPV6_CHARS.matcher(value).matches()) {
      return false;
    }
    try {
      // With a ':' in it the JDK parses an IPv6 literal and never asks DNS.
      InetAddress.getByName(value);
      return true;
    } catch (UnknownHostException | IllegalArgumentException e) {
      return false;
    }
  }

  static boolean isHost(String value) {
    return isIpLiteral(value) || (HOST_NAME.matcher(value).matches() && !value.contains(":"));
  }

  /** host:port other sidecars dial to reach this one. */
  public String dataPlaneEndpoint() {
    return new HostPort(advertiseHost, grpcPort).toString();
  }
}

package io.conveyor.sidecar.config;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
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
 * @param maxInFlightBytes {@code MAX_INFLIGHT_BYTES}: bound on batch bytes held; {@code 16Mi}
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
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:\\[\\]_-]{1,253}");

  /** Reads and validates the configuration; throws a ConfigException naming every bad variable. */
  public static SidecarConfig fromEnv(Map<String, String> env) {
    EnvReader r = new EnvReader(env);
    String sidecarId =
        r.matching(
            "SIDECAR_ID",
            UUID.randomUUID().toString(),
            ID,
            "1-128 letters, digits, '.', '_' or '-'");
    String podName = r.string("POD_NAME", "unknown");
    String namespace = r.string("NAMESPACE", "default");
    HostPort clusterEndpoint = r.hostPort("CLUSTER_ENDPOINT", "localhost:50051");
    int grpcPort = r.port("GRPC_PORT", 9091);
    int start = r.port("DISCOVERY_START_PORT", 50051);
    int end = r.port("DISCOVERY_END_PORT", 50060);
    Duration heartbeat = r.seconds("HEARTBEAT_INTERVAL_SECS", Duration.ofSeconds(5), 1, 300);
    String podUid = r.string("POD_UID", "");
    String podIp = r.matching("POD_IP", "", HOST, "an IP address");
    String advertise =
        r.matching(
            "ADVERTISE_HOST", podIp.isEmpty() ? "127.0.0.1" : podIp, HOST, "a host name or IP");
    String bind = r.matching("BIND_ADDRESS", "0.0.0.0", HOST, "an IP address to listen on");
    int metricsPort = r.port("METRICS_PORT", 9090);
    String discoveryHost = r.matching("DISCOVERY_HOST", "127.0.0.1", HOST, "a host name or IP");
    Duration discoveryInterval =
        r.seconds("DISCOVERY_INTERVAL_SECS", Duration.ofSeconds(10), 1, 3600);
    Duration probeTimeout =
        r.millis("DISCOVERY_PROBE_TIMEOUT_MS", Duration.ofMillis(1000), 50, 60_000);
    long maxInFlight = r.bytes("MAX_INFLIGHT_BYTES", 16L << 20, 64L << 10, 1L << 34);
    int credits = r.integer("PUSH_CREDITS", 8, 1, 1024);
    int maxMessage = (int) r.bytes("MAX_MESSAGE_BYTES", 4L << 20, 1L << 10, 1L << 30);
    Duration grace = r.seconds("SHUTDOWN_GRACE_SECS", Duration.ofSeconds(20), 0, 3600);

    if (start > end) {
      r.problem(
          "DISCOVERY_START_PORT=" + start + " is above DISCOVERY_END_PORT=" + end
              + ": the scan range must be start <= end");
    } else if (end - start + 1 > MAX_DISCOVERY_PORTS) {
      r.problem(
          "DISCOVERY_START_PORT..DISCOVERY_END_PORT spans " + (end - start + 1)
              + " ports: at most " + MAX_DISCOVERY_PORTS + " are scanned");
    }
    if (grpcPort == metricsPort) {
      r.problem("GRPC_PORT and METRICS_PORT must differ, both are " + grpcPort);
    }
    r.validate();
    return new SidecarConfig(
        sidecarId, podName, namespace, clusterEndpoint, grpcPort, start, end, heartbeat, podUid,
        podIp, advertise, bind, metricsPort, discoveryHost, discoveryInterval, probeTimeout,
        maxInFlight, credits, maxMessage, grace);
  }

  /** host:port other sidecars dial to reach this one. */
  public String dataPlaneEndpoint() {
    return new HostPort(advertiseHost, grpcPort).toString();
  }
}

package io.conveyor.examples.local;

import static io.conveyor.common.contract.SidecarEnvironment.ADVERTISE_HOST;
import static io.conveyor.common.contract.SidecarEnvironment.BIND_ADDRESS;
import static io.conveyor.common.contract.SidecarEnvironment.CLUSTER_ENDPOINT;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_END_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_INTERVAL_SECS;
import static io.conveyor.common.contract.SidecarEnvironment.DISCOVERY_START_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.GRPC_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.HEARTBEAT_INTERVAL_SECS;
import static io.conveyor.common.contract.SidecarEnvironment.METRICS_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.NAMESPACE;
import static io.conveyor.common.contract.SidecarEnvironment.PEER_PORT;
import static io.conveyor.common.contract.SidecarEnvironment.POD_NAME;
import static io.conveyor.common.contract.SidecarEnvironment.SIDECAR_ID;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A simulated pod: application processes on the first {@link LocalCluster#APP_PORTS} ports of its
 * block (the sidecar's discovery range) and a sidecar on the two ports after them.
 */
public final class Pod {

  private final LocalCluster cluster;
  private final String name;
  private final PortBlock ports;
  private ManagedProcess sidecar;

  Pod(LocalCluster cluster, String name, PortBlock ports) {
    this.cluster = cluster;
    this.name = name;
    this.ports = ports;
  }

  public String name() {
    return name;
  }

  /** Port {@code index} (0-9) of the pod's applications. */
  public int appPort(int index) {
    if (index < 0 || index >= LocalCluster.APP_PORTS) {
      throw new IndexOutOfBoundsException("application port " + index);
    }
    return ports.port(index);
  }

  public int sidecarPort() {
    return ports.port(LocalCluster.APP_PORTS);
  }

  public int sidecarMetricsPort() {
    return ports.port(LocalCluster.APP_PORTS + 1);
  }

  /** The port other sidecars reach this pod's sidecar on (mutual TLS unless plaintext). */
  public int sidecarPeerPort() {
    return ports.port(LocalCluster.APP_PORTS + 2);
  }

  public String sidecarEndpoint() {
    return "127.0.0.1:" + sidecarPort();
  }

  /** Starts the pod's sidecar, configured as the injector would configure it. */
  public ManagedProcess startSidecar(Map<String, String> extraEnv) {
    launchSidecar(extraEnv);
    LocalCluster.awaitPort(sidecar, sidecarPort(), Duration.ofSeconds(30));
    return sidecar;
  }

  /**
   * Execs the pod's sidecar and returns at once, without waiting for it to listen (the start-up
   * benchmark times what follows the exec).
   */
  public ManagedProcess launchSidecar(Map<String, String> extraEnv) {
    Map<String, String> env = new HashMap<>();
    env.put(SIDECAR_ID.variable(), name + "-sidecar");
    env.put(POD_NAME.variable(), name);
    env.put(NAMESPACE.variable(), "default");
    env.put(CLUSTER_ENDPOINT.variable(), cluster.routerEndpoint());
    env.put(GRPC_PORT.variable(), Integer.toString(sidecarPort()));
    env.put(METRICS_PORT.variable(), Integer.toString(sidecarMetricsPort()));
    env.put(DISCOVERY_START_PORT.variable(), Integer.toString(appPort(0)));
    env.put(DISCOVERY_END_PORT.variable(), Integer.toString(appPort(LocalCluster.APP_PORTS - 1)));
    env.put(BIND_ADDRESS.variable(), "127.0.0.1");
    env.put(ADVERTISE_HOST.variable(), "127.0.0.1");
    env.put(HEARTBEAT_INTERVAL_SECS.variable(), "1");
    env.put(DISCOVERY_INTERVAL_SECS.variable(), "2");
    env.put(PEER_PORT.variable(), Integer.toString(sidecarPeerPort()));
    env.putAll(cluster.sidecarSecurityEnv());
    env.putAll(extraEnv);
    sidecar = cluster.start(name + "-sidecar", Component.SIDECAR, List.of(), env);
    return sidecar;
  }

  public ManagedProcess sidecar() {
    return sidecar;
  }

  /**
   * Starts an example application ({@code source}, {@code transform}, {@code sink}) serving on
   * application port {@code portIndex}, its admin port on {@code adminIndex}.
   */
  public ManagedProcess startApp(
      String command, int portIndex, int adminIndex, Map<String, String> extraEnv) {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", Integer.toString(appPort(portIndex)));
    env.put("ADMIN_PORT", Integer.toString(appPort(adminIndex)));
    env.put("BIND_ADDRESS", "127.0.0.1");
    env.put("SIDECAR_ENDPOINT", sidecarEndpoint());
    env.putAll(extraEnv);
    ManagedProcess app =
        cluster.start(name + "-" + command, Component.EXAMPLES, List.of(command), env);
    LocalCluster.awaitPort(app, appPort(portIndex), Duration.ofSeconds(30));
    return app;
  }

  /** True when the sidecar reports ready (registered with the router). */
  public boolean sidecarReady() {
    return cluster.get(sidecarMetricsPort(), "/readyz").ok();
  }

  /** The sidecar's Prometheus metrics text. */
  public String sidecarMetrics() {
    return cluster.get(sidecarMetricsPort(), "/metrics").body();
  }
}

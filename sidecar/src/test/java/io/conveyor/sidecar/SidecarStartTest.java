package io.conveyor.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.discovery.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Starting and closing a whole sidecar on real ports: a start that fails half-way (a port already
 * taken) names what failed and leaves nothing behind, neither threads nor the ports it had bound.
 */
class SidecarStartTest {

  private static final Duration WAIT = Duration.ofSeconds(15);

  /** Threads a sidecar starts: its own pools and I/O, gRPC's, the admin HTTP server's. */
  private static final List<String> SIDECAR_THREADS =
      List.of("sidecar-", "grpc-", "admin-http", "HTTP-Dispatcher");

  private final int grpcPort = FreePorts.anyFreePort();
  private final int metricsPort = otherFreePort(grpcPort);
  private final int peerPort = otherFreePort(grpcPort, metricsPort);

  @Test
  void aTakenGrpcPortFailsTheStartNamingItAndLeavesNothingRunning() throws IOException {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    try (ServerSocket taken = bind(grpcPort)) {

      assertThatThrownBy(() -> Sidecar.start(config()))
          .isInstanceOf(SidecarStartException.class)
          .hasMessageContaining("GRPC_PORT=" + grpcPort)
          .hasMessageContaining("127.0.0.1:" + grpcPort)
          .hasMessageContaining("in use");

      awaitNoThreadsLeftSince(before);
      await().atMost(WAIT).until(() -> isFree(metricsPort));
    }
  }

  @Test
  void aTakenMetricsPortFailsTheStartNamingItAndFreesTheGrpcPortAgain() throws IOException {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    try (ServerSocket taken = bind(metricsPort)) {

      assertThatThrownBy(() -> Sidecar.start(config()))
          .isInstanceOf(SidecarStartException.class)
          .hasMessageContaining("METRICS_PORT=" + metricsPort)
          .hasMessageContaining("127.0.0.1:" + metricsPort)
          .hasMessageContaining("in use");

      awaitNoThreadsLeftSince(before);
      await().atMost(WAIT).until(() -> isFree(grpcPort));
    }
  }

  @Test
  void aStartedSidecarServesOnItsPortsAndCloseReleasesThem() {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    Sidecar sidecar = Sidecar.start(config());
    try {
      assertThat(sidecar.grpcPort()).isEqualTo(grpcPort);
      assertThat(sidecar.metricsPort()).isEqualTo(metricsPort);
      assertThat(isFree(grpcPort)).isFalse();
      assertThat(isFree(metricsPort)).isFalse();
      assertThat(sidecar.isRegistered()).isFalse(); // no router listens
    } finally {
      sidecar.close();
    }

    await().atMost(WAIT).until(() -> isFree(grpcPort) && isFree(metricsPort));
    awaitNoThreadsLeftSince(before);
  }

  private SidecarConfig config() {
    int nobody = otherFreePort(grpcPort, metricsPort);
    Map<String, String> env =
        new java.util.HashMap<>(
            Map.of("SECURITY_MODE", "plaintext", "PEER_PORT", String.valueOf(peerPort)));
    env.putAll(
        Map.of(
            "SIDECAR_ID",
            "sc-start",
            "POD_NAME",
            "pod-start",
            "POD_IP",
            "10.0.0.9",
            "BIND_ADDRESS",
            "127.0.0.1",
            "GRPC_PORT",
            String.valueOf(grpcPort),
            "METRICS_PORT",
            String.valueOf(metricsPort),
            // Nothing listens there: the sidecar keeps trying to register, as with a router away.
            "CLUSTER_ENDPOINT",
            "127.0.0.1:" + nobody,
            "DISCOVERY_START_PORT",
            String.valueOf(nobody),
            "DISCOVERY_END_PORT",
            String.valueOf(nobody)));
    return SidecarConfig.fromEnv(env);
  }

  private static void awaitNoThreadsLeftSince(Set<Thread> before) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> !before.contains(t) && t.isAlive())
                            .map(Thread::getName)
                            .filter(name -> SIDECAR_THREADS.stream().anyMatch(name::startsWith))
                            .toList())
                    .as("threads started by the sidecar that are still alive")
                    .isEmpty());
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return socket;
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = bind(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int otherFreePort(int... taken) {
    while (true) {
      int port = FreePorts.anyFreePort();
      if (Arrays.stream(taken).noneMatch(p -> p == port)) {
        return port;
      }
    }
  }
}

package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.conveyor.podtest.spec.ProbePlan;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Probe attempts against real servers on loopback, judged as the kubelet judges them. */
class ProberTest {

  private static ProbePlan plan(ProbePlan.Kind kind, int port, String path, String service) {
    return new ProbePlan(
        kind,
        port,
        path,
        service,
        Duration.ZERO,
        Duration.ofSeconds(1),
        Duration.ofSeconds(2),
        3,
        1);
  }

  @Test
  void httpGetSucceedsOn2xxAnd3xxAndFailsOtherwiseWithTheStatus() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/ok",
        e -> {
          e.sendResponseHeaders(200, -1);
          e.close();
        });
    server.createContext(
        "/moved",
        e -> {
          e.getResponseHeaders().add("Location", "/elsewhere");
          e.sendResponseHeaders(302, -1);
          e.close();
        });
    server.createContext(
        "/broken",
        e -> {
          e.sendResponseHeaders(503, -1);
          e.close();
        });
    server.start();
    try {
      int port = server.getAddress().getPort();
      StringBuilder why = new StringBuilder();
      assertThat(Prober.probe(plan(ProbePlan.Kind.HTTP, port, "/ok", ""), "127.0.0.1", why))
          .isTrue();
      assertThat(Prober.probe(plan(ProbePlan.Kind.HTTP, port, "/moved", ""), "127.0.0.1", why))
          .isTrue();
      assertThat(why).isEmpty();
      assertThat(Prober.probe(plan(ProbePlan.Kind.HTTP, port, "/broken", ""), "127.0.0.1", why))
          .isFalse();
      assertThat(why.toString()).isEqualTo("HTTP probe failed with statuscode: 503");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void tcpSocketSucceedsWhenSomethingListens() throws Exception {
    int closedPort;
    try (ServerSocket listening =
        new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      assertThat(
              Prober.probe(
                  plan(ProbePlan.Kind.TCP, listening.getLocalPort(), "/", ""),
                  "127.0.0.1",
                  new StringBuilder()))
          .isTrue();
      closedPort = listening.getLocalPort();
    }
    StringBuilder why = new StringBuilder();
    assertThat(Prober.probe(plan(ProbePlan.Kind.TCP, closedPort, "/", ""), "127.0.0.1", why))
        .isFalse();
    assertThat(why.toString()).contains("Connection refused");
  }

  @Test
  void grpcSucceedsOnlyWhenTheServiceIsServing() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(health.getHealthService())
            .build()
            .start();
    try {
      ProbePlan overall = plan(ProbePlan.Kind.GRPC, server.getPort(), "/", "");
      ProbePlan named =
          plan(ProbePlan.Kind.GRPC, server.getPort(), "/", "conveyor.etl.v1.SinkService");
      health.setStatus("conveyor.etl.v1.SinkService", ServingStatus.NOT_SERVING);
      StringBuilder why = new StringBuilder();

      assertThat(Prober.probe(overall, "127.0.0.1", new StringBuilder())).isTrue();
      assertThat(Prober.probe(named, "127.0.0.1", why)).isFalse();
      assertThat(why.toString()).isEqualTo("gRPC health status NOT_SERVING");

      health.setStatus("conveyor.etl.v1.SinkService", ServingStatus.SERVING);
      assertThat(Prober.probe(named, "127.0.0.1", new StringBuilder())).isTrue();
    } finally {
      server.shutdownNow();
    }
  }
}

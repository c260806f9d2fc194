package io.conveyor.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.discovery.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The gauges a running sidecar exposes on /metrics, each with a description (Prometheus HELP). */
class SidecarGaugesTest {

  private static final List<String> GAUGES =
      List.of(
          "conveyor_sidecar_inflight_bytes",
          "conveyor_sidecar_inflight_batches",
          "conveyor_sidecar_waiting_retries",
          "conveyor_sidecar_waiting_for_stage",
          "conveyor_sidecar_push_streams",
          "conveyor_sidecar_discovered_services",
          "conveyor_sidecar_registered",
          "conveyor_sidecar_channels");

  private Sidecar sidecar;

  @AfterEach
  void close() {
    if (sidecar != null) {
      sidecar.close();
    }
  }

  @Test
  void everyGaugeIsExposedWithAHelpText() throws IOException, InterruptedException {
    sidecar = startWithoutARouter();

    String metrics = scrape(sidecar.metricsPort());

    for (String gauge : GAUGES) {
      Optional<String> help = help(metrics, gauge);
      assertThat(help).as("HELP line of %s", gauge).isPresent();
      assertThat(help.orElseThrow()).as("HELP text of %s", gauge).isNotBlank();
    }
  }

  /**
   * The JVM's meters are bound after the first registration, or shortly after the start when the
   * router does not answer: a sidecar that cannot register is when its memory matters most.
   */
  @Test
  void theJvmMetersAreExposedEvenWithoutARouter() {
    sidecar = startWithoutARouter();

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(scrape(sidecar.metricsPort()))
                    .contains("jvm_memory_used_bytes{")
                    .contains("jvm_threads_live_threads{")
                    .contains("process_uptime_seconds{"));
  }

  private static Sidecar startWithoutARouter() {
    int grpcPort = FreePorts.anyFreePort();
    int metricsPort = FreePorts.anyFreePort();
    int nobody = FreePorts.anyFreePort();
    return Sidecar.start(
        SidecarConfig.fromEnv(
            Map.ofEntries(
                Map.entry("SECURITY_MODE", "plaintext"),
                Map.entry("PEER_PORT", String.valueOf(FreePorts.anyFreePort())),
                Map.entry("SIDECAR_ID", "sc-gauges"),
                Map.entry("POD_IP", "10.0.0.9"),
                Map.entry("BIND_ADDRESS", "127.0.0.1"),
                Map.entry("GRPC_PORT", String.valueOf(grpcPort)),
                Map.entry("METRICS_PORT", String.valueOf(metricsPort)),
                Map.entry("CLUSTER_ENDPOINT", "127.0.0.1:" + nobody),
                Map.entry("DISCOVERY_START_PORT", String.valueOf(nobody)),
                Map.entry("DISCOVERY_END_PORT", String.valueOf(nobody)))));
  }

  private static String scrape(int port) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  /** The text of {@code # HELP name text}; empty when the metric is not exposed at all. */
  private static Optional<String> help(String exposition, String name) {
    String prefix = "# HELP " + name + " ";
    return exposition
        .lines()
        .filter(line -> line.startsWith(prefix) || line.equals("# HELP " + name))
        .findFirst()
        .map(line -> line.length() > prefix.length() ? line.substring(prefix.length()) : "");
  }
}

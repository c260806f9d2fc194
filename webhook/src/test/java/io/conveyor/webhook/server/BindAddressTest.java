package io.conveyor.webhook.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.WebhookMain;
import io.conveyor.webhook.testing.Fixtures;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * BIND_ADDRESS as the webhook's real listeners apply it. 127.0.0.2 is another address of this host
 * (Linux routes all of 127.0.0.0/8 to the loopback interface): a listener on every interface
 * answers there, one bound to 127.0.0.1 does not.
 */
class BindAddressTest {

  private static final String OTHER_LOCAL_ADDRESS = "127.0.0.2";

  @Test
  void boundTo127001BothPortsAreClosedOnAnotherLocalAddressAndTheWebhookStillGetsReady()
      throws Exception {
    try (WebhookApp app = start(Map.of("BIND_ADDRESS", "127.0.0.1"))) {
      // Ready means the TLS warm-up handshaked with the bound address, not a hard-coded one.
      await().atMost(Duration.ofSeconds(30)).until(app::isReady);

      assertThat(connects("127.0.0.1", app.httpsPort())).isTrue();
      assertThat(connects("127.0.0.1", app.adminPort())).isTrue();
      assertThatThrownBy(() -> connect(OTHER_LOCAL_ADDRESS, app.httpsPort()))
          .isInstanceOf(ConnectException.class);
      assertThatThrownBy(() -> connect(OTHER_LOCAL_ADDRESS, app.adminPort()))
          .isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void byDefaultBothPortsListenOnEveryInterfaceAsTheOtherBinariesDo() throws Exception {
    try (WebhookApp app = start(Map.of())) {
      assertThat(app.config().server().bindAddress()).isEqualTo("0.0.0.0");
      assertThat(connects(OTHER_LOCAL_ADDRESS, app.httpsPort())).isTrue();
      assertThat(connects(OTHER_LOCAL_ADDRESS, app.adminPort())).isTrue();
    }
  }

  @Test
  void aMalformedBindAddressStopsTheProcessAtStartWithOneLineNamingTheVariable() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    WebhookMain.class.getName()))
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().put("BIND_ADDRESS", "0.0.0.0:8443");
    builder.environment().put("TLS_STORE", "memory");
    builder.environment().put("HTTPS_PORT", "0");
    builder.environment().put("METRICS_PORT", "0");
    Process process = builder.start();
    try {
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the webhook exits").isTrue();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(process.exitValue()).as(output).isEqualTo(2);
      assertThat(output.strip())
          .isEqualTo(
              "conveyor-webhook: invalid configuration: BIND_ADDRESS='0.0.0.0:8443' is not valid: expected an IP address"
                  + " to listen on, e.g. 0.0.0.0");
    } finally {
      process.destroyForcibly();
    }
  }

  private static WebhookApp start(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("TLS_STORE", "memory");
    all.put("HTTPS_PORT", "0");
    all.put("METRICS_PORT", "0");
    return WebhookApp.start(
        Fixtures.config(all),
        Optional.empty(),
        Clock.systemUTC(),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  private static boolean connects(String host, int port) throws IOException {
    connect(host, port);
    return true;
  }

  private static void connect(String host, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 5_000);
    }
  }
}

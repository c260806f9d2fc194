package io.conveyor.common.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.metrics.MetricsRegistries;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AdminHttpServerTest {

  private final HttpClient client = HttpClient.newHttpClient();

  @Test
  void servesMetricsHealthAndReadinessThatFollowsItsCheck() throws Exception {
    PrometheusMeterRegistry registry = MetricsRegistries.prometheus("test");
    registry.counter("conveyor_things_total").increment(3);
    AtomicBoolean ready = new AtomicBoolean(false);
    try (AdminHttpServer server =
        AdminHttpServer.builder(new InetSocketAddress("127.0.0.1", 0))
            .metrics(registry)
            .readiness(
                () ->
                    ready.get()
                        ? AdminHttpServer.Check.ok("registered")
                        : AdminHttpServer.Check.failing("not registered yet"))
            .start()) {
      HttpResponse<String> metrics = get(server, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("conveyor_things_total{app=\"test\"} 3.0");
      assertThat(metrics.body()).contains("jvm_memory_used_bytes");

      assertThat(get(server, "/healthz").statusCode()).isEqualTo(200);
      HttpResponse<String> notReady = get(server, "/readyz");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("not registered yet");

      ready.set(true);
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
    }
  }

  private HttpResponse<String> get(AdminHttpServer server, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

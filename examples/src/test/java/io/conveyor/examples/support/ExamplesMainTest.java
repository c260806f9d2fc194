package io.conveyor.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.config.ConfigException;
import io.conveyor.examples.direct.DirectApp;
import io.conveyor.examples.direct.DirectConfig;
import io.conveyor.examples.sink.SinkConfig;
import io.conveyor.examples.source.SourceConfig;
import io.conveyor.examples.transform.TransformConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExamplesMainTest {

  private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  private int run(Map<String, String> env, String... args) throws InterruptedException {
    return ExamplesMain.run(args, env, out, err);
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void unknownOrMissingCommandExitsWithUsage() throws InterruptedException {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(err()).contains("usage:");
    assertThat(run(Map.of(), "bench")).isEqualTo(2);
    assertThat(err()).contains("unknown command 'bench'");
  }

  @Test
  void badSettingsExitWithCode2NamingTheVariable() throws InterruptedException {
    assertThat(run(Map.of("PORT", "http"), "sink")).isEqualTo(2);
    assertThat(err()).contains("conveyor-examples sink:").contains("PORT='http'");
    assertThat(run(Map.of("FAIL_FRACTION", "1.5"), "transform")).isEqualTo(2);
    assertThat(err()).contains("FAIL_FRACTION='1.5'").contains("fraction from 0 to 1");
    assertThat(run(Map.of("SIDECAR_ENDPOINT", "nohost", "RECORDS", "-1"), "source")).isEqualTo(2);
    assertThat(err()).contains("SIDECAR_ENDPOINT='nohost'").contains("RECORDS='-1'");
    assertThat(run(Map.of("NAME", "Demo_Sink"), "sink")).isEqualTo(2);
    assertThat(err()).contains("NAME='Demo_Sink'");
  }

  @Test
  void defaultsOfEveryRunnable() {
    SourceConfig source = SourceConfig.fromEnv(Map.of());
    assertThat(source.server()).isEqualTo(new ServerSettings("0.0.0.0", 50052, 9101));
    assertThat(source.name()).isEqualTo("demo-source");
    assertThat(source.sidecar().toString()).isEqualTo("localhost:9091");
    assertThat(source.pusher().pipeline()).isEmpty();
    assertThat(source.pusher().workload().records()).isEqualTo(10_000);
    assertThat(source.pusher().workload().batchSize()).isEqualTo(500);
    assertThat(source.pusher().workload().recordBytes()).isEqualTo(100);
    assertThat(source.pusher().workload().sourceId()).isEqualTo("demo-source");
    assertThat(source.pusher().workload().rate().limited()).isFalse();
    assertThat(source.exitWhenDone()).isFalse();

    TransformConfig transform = TransformConfig.fromEnv(Map.of());
    assertThat(transform.server().port()).isEqualTo(50053);
    assertThat(transform.transform())
        .isEqualTo(
            new io.conveyor.examples.transform.TransformSettings(
                "demo-transform", 1000, 10, FaultSettings.NONE));

    SinkConfig sink = SinkConfig.fromEnv(Map.of());
    assertThat(sink.server()).isEqualTo(new ServerSettings("0.0.0.0", 50054, 9103));
    assertThat(sink.sink().name()).isEqualTo("demo-sink");

    DirectConfig direct = DirectConfig.fromEnv(Map.of());
    assertThat(direct.transform().toString()).isEqualTo("localhost:50053");
    assertThat(direct.sink().toString()).isEqualTo("localhost:50054");
    assertThat(direct.driver().window()).isEqualTo(16);
  }

  @Test
  void settingsAreRead() {
    SourceConfig source =
        SourceConfig.fromEnv(
            Map.ofEntries(
                Map.entry("PORT", "6000"),
                Map.entry("METRICS_PORT", "6001"),
                Map.entry("NAME", "orders"),
                Map.entry("PIPELINE", "p1"),
                Map.entry("RECORDS", "7"),
                Map.entry("BATCH_SIZE", "3"),
                Map.entry("RECORD_BYTES", "1Ki"),
                Map.entry("RATE", "250.5"),
                Map.entry("ACK_TIMEOUT_MS", "1500"),
                Map.entry("EXIT_WHEN_DONE", "true")));
    assertThat(source.server().port()).isEqualTo(6000);
    assertThat(source.server().adminPort()).isEqualTo(6001);
    assertThat(source.pusher().sourceName()).isEqualTo("orders");
    assertThat(source.pusher().workload().sourceId()).isEqualTo("orders");
    assertThat(source.pusher().pipeline()).isEqualTo("p1");
    assertThat(source.pusher().workload().recordBytes()).isEqualTo(1024);
    assertThat(source.pusher().workload().rate()).isEqualTo(SendRate.recordsPerSecond(250.5));
    assertThat(source.pusher().ackTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(source.exitWhenDone()).isTrue();

    TransformConfig transform =
        TransformConfig.fromEnv(
            Map.of(
                "FAIL_FRACTION",
                "0.1",
                "FAIL_ATTEMPTS",
                "3",
                "DELAY_MS",
                "20",
                "FILTER_PERIOD",
                "0"));
    assertThat(transform.transform().faults())
        .isEqualTo(new FaultSettings(0.1, 3, 0.0, Duration.ofMillis(20)));
    assertThat(transform.transform().filterPeriod()).isZero();
  }

  @Test
  void conflictingSettingsAreProblems() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> SinkConfig.fromEnv(Map.of("PORT", "7000", "ADMIN_PORT", "7000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("PORT and ADMIN_PORT must differ");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> SourceConfig.fromEnv(Map.of("RATE", "10", "BATCH_RATE", "1")))
        .hasMessageContaining("RATE and BATCH_RATE are exclusive");
  }

  @Test
  void transformAndSinkServeOnRealPortsAndTheDirectRunnableDrivesThem() throws Exception {
    Map<String, String> free = Map.of("PORT", "0", "ADMIN_PORT", "0", "BIND_ADDRESS", "127.0.0.1");
    ExampleProcess transform = (ExampleProcess) ExamplesMain.start("transform", free, out);
    ExampleProcess sink = (ExampleProcess) ExamplesMain.start("sink", free, out);
    try {
      assertThat(outBytes.toString(StandardCharsets.UTF_8))
          .contains("demo-transform: serving conveyor.etl.v1.TransformService")
          .contains("demo-sink: serving conveyor.etl.v1.SinkService");
      DirectApp direct =
          (DirectApp)
              ExamplesMain.start(
                  "direct",
                  Map.of(
                      "TRANSFORM_ENDPOINT",
                      "127.0.0.1:" + transform.grpcPort(),
                      "SINK_ENDPOINT",
                      "127.0.0.1:" + sink.grpcPort(),
                      "RECORDS",
                      "3000",
                      "BATCH_SIZE",
                      "100"),
                  out);
      assertThat(direct.awaitTermination()).isZero();
      assertThat(outBytes.toString(StandardCharsets.UTF_8)).contains("direct: done produced=3000");

      HttpClient http = HttpClient.newHttpClient();
      String stats =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + sink.adminPort() + "/stats?sent=3000"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(stats)
          .contains("\"delivered\":2700")
          .contains("\"lost\":0")
          .contains("\"duplicates\":0");
      String metrics =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + sink.adminPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics).contains("demo_sink_records_written_total");
    } finally {
      transform.close();
      sink.close();
    }
    assertThat(transform.awaitTermination()).isZero();
  }
}

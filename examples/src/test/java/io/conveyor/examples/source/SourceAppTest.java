package io.conveyor.examples.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.examples.support.ExamplesMain;
import io.conveyor.examples.support.RunningApp;
import io.conveyor.examples.support.ServiceHost;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The source runnable over real sockets, against the fake sidecar on a real port. */
class SourceAppTest {

  @Test
  void pushesItsRecordsPrintsProgressAndExitsWhenDone() throws Exception {
    FakeSidecar fake = new FakeSidecar();
    fake.failPreconditionInits = 1;
    ServiceHost sidecar =
        ServiceHost.start(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), fake);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try {
      RunningApp app =
          ExamplesMain.start(
              "source",
              Map.of(
                  "PORT", "0",
                  "ADMIN_PORT", "0",
                  "BIND_ADDRESS", "127.0.0.1",
                  "SIDECAR_ENDPOINT", "127.0.0.1:" + sidecar.port(),
                  "RECORDS", "5000",
                  "BATCH_SIZE", "250",
                  "RECONNECT_BACKOFF_MS", "20",
                  "EXIT_WHEN_DONE", "true"),
              out);
      CompletableFuture<Integer> exit =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return app.awaitTermination();
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThat(exit.get(20, TimeUnit.SECONDS)).isZero();
      String printed = bytes.toString(StandardCharsets.UTF_8);
      assertThat(printed)
          .contains("demo-source: serving conveyor.etl.v1.SourceService")
          .contains(
              "demo-source: done produced=5000 sent=5000 resent=0 delivered=4500 filtered=500")
          .contains("demo-source: stopped");
      assertThat(fake.inits).hasValue(2);
      assertThat(fake.written).hasSize(4500);
      assertThat(fake.initMessages.get(1).getSourceName()).isEqualTo("demo-source");
    } finally {
      sidecar.close(Duration.ofSeconds(1));
      fake.close();
    }
  }

  @Test
  void servesItsCountersWhileRunning() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunningApp app =
        ExamplesMain.start(
            "source",
            Map.of("PORT", "0", "ADMIN_PORT", "0", "BIND_ADDRESS", "127.0.0.1", "RECORDS", "0"),
            new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      String line = bytes.toString(StandardCharsets.UTF_8);
      String admin = line.replaceAll("(?s).*admin http on port (\\d+).*", "$1");
      String stats =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(stats).contains("\"produced\":0").contains("\"complete\":false");
    } finally {
      app.close();
    }
  }
}

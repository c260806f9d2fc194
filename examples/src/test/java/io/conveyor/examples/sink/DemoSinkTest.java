package io.conveyor.examples.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.examples.support.FaultSettings;
import io.conveyor.examples.support.InProcess;
import io.conveyor.examples.transform.DemoTransform;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DemoSinkTest {

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  private SinkServiceGrpc.SinkServiceBlockingStub serve(DemoSink sink) {
    InProcess server = InProcess.serve(sink);
    resources.add(server);
    return SinkServiceGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(Duration.ofSeconds(5));
  }

  private static WriteBatchRequest batch(String source, int partition, LongStream sequences) {
    RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId("b");
    sequences.forEach(
        s ->
            batch.addRecords(
                Record.newBuilder()
                    .setId(
                        RecordId.newBuilder()
                            .setSourceId(source)
                            .setPartition(partition)
                            .setSequence(s))));
    return WriteBatchRequest.newBuilder()
        .setBatch(batch)
        .setPipeline("demo")
        .setStage("demo-sink")
        .build();
  }

  /** What the transform lets through, of [from, to). */
  private static LongStream unfiltered(long from, long to) {
    return LongStream.range(from, to).filter(s -> !DemoTransform.isFiltered(s));
  }

  @Test
  void writesAnswerOkPerRecordAndAreCountedDistinctAndDuplicate() {
    DemoSink sink = new DemoSink(SinkSettings.defaults());
    var stub = serve(sink);
    assertThat(stub.describe(DescribeRequest.getDefaultInstance()).getType())
        .isEqualTo(ServiceType.SERVICE_TYPE_SINK);

    WriteBatchResponse first = stub.writeBatch(batch("src", 0, unfiltered(0, 500)));
    assertThat(first.getResultsList())
        .hasSize(450)
        .allMatch(r -> r.getStatus() == SinkResult.Status.STATUS_OK);
    // A re-delivered batch (its ack was lost), then the rest.
    stub.writeBatch(batch("src", 0, unfiltered(400, 500)));
    stub.writeBatch(batch("src", 0, unfiltered(500, 1000)));
    // A second partition with a gap.
    stub.writeBatch(batch("src", 1, unfiltered(0, 1000).filter(s -> s != 42)));
    assertThat(stub.writeBatch(batch("src", 0, LongStream.empty())).getResultsCount()).isZero();

    SequenceLedger.Report p0 =
        sink.ledger().report(1000, 10, java.util.Optional.of("src"), java.util.OptionalInt.of(0));
    assertThat(p0.delivered()).isEqualTo(900);
    assertThat(p0.duplicates()).isEqualTo(90);
    assertThat(p0.lost()).isZero();
    SequenceLedger.Report all =
        sink.ledger().report(1000, 10, java.util.Optional.empty(), java.util.OptionalInt.empty());
    assertThat(all.delivered()).isEqualTo(1799);
    assertThat(all.lost()).isEqualTo(1);
    assertThat(sink.writes()).isEqualTo(450 + 90 + 450 + 899);
  }

  @Test
  void injectedFailuresAreNotCountedAsReceived() {
    DemoSink sink =
        new DemoSink(SinkSettings.defaults().withFaults(FaultSettings.NONE.withFailures(0.3, 1)));
    var stub = serve(sink);
    WriteBatchRequest request = batch("src", 0, LongStream.range(0, 200));
    WriteBatchResponse first = stub.writeBatch(request);
    long failed =
        first.getResultsList().stream()
            .filter(r -> r.getStatus() == SinkResult.Status.STATUS_FAILED)
            .count();
    assertThat(failed).isBetween(30L, 90L);
    assertThat(first.getResultsList())
        .filteredOn(r -> r.getStatus() == SinkResult.Status.STATUS_FAILED)
        .allMatch(SinkResult::getRetryable);
    assertThat(sink.ledger().counts().get(0).distinct()).isEqualTo(200 - failed);

    WriteBatchResponse retry = stub.writeBatch(request);
    assertThat(retry.getResultsList()).allMatch(r -> r.getStatus() == SinkResult.Status.STATUS_OK);
    assertThat(sink.ledger().counts().get(0).distinct()).isEqualTo(200);
    assertThat(sink.ledger().counts().get(0).duplicates()).isEqualTo(200 - failed);
  }

  @Test
  void statsOverHttpReportDeliveredLostAndDuplicates() throws Exception {
    DemoSink sink = new DemoSink(SinkSettings.defaults());
    var stub = serve(sink);
    stub.writeBatch(batch("demo-source", 0, unfiltered(0, 100).filter(s -> s != 7)));
    stub.writeBatch(batch("demo-source", 0, LongStream.of(1, 2)));
    SinkStatsHandler stats = new SinkStatsHandler(sink);
    AdminHttpServer admin =
        AdminHttpServer.builder(new InetSocketAddress("127.0.0.1", 0))
            .route("/stats", stats)
            .route("/stats/reset", stats.resetHandler())
            .start();
    resources.add(admin);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String base = "http://127.0.0.1:" + admin.port();

    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/stats?sent=100")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    String json = response.body();
    assertThat(number(json, "delivered")).isEqualTo(89);
    assertThat(number(json, "lost")).isEqualTo(1);
    assertThat(number(json, "duplicates")).isEqualTo(2);
    assertThat(number(json, "expected")).isEqualTo(90);
    assertThat(number(json, "sent")).isEqualTo(100);
    assertThat(json).contains("\"source_id\":\"demo-source\"");

    String other =
        http.send(
                HttpRequest.newBuilder(URI.create(base + "/stats?sent=100&source=nobody")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(number(other, "lost")).isEqualTo(90);
    assertThat(number(other, "delivered")).isZero();

    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/stats?sent=abc")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(400);

    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/stats/reset"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(204);
    String afterReset =
        http.send(
                HttpRequest.newBuilder(URI.create(base + "/stats")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(number(afterReset, "delivered")).isZero();
    assertThat(afterReset).doesNotContain("\"lost\"");
  }

  private static long number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":(-?\\d+)").matcher(json);
    assertThat(m.find()).as("%s in %s", key, json).isTrue();
    return Long.parseLong(m.group(1));
  }
}

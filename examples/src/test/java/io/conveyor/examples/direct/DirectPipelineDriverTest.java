package io.conveyor.examples.direct;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.examples.sink.DemoSink;
import io.conveyor.examples.sink.SequenceLedger;
import io.conveyor.examples.sink.SinkSettings;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.FaultSettings;
import io.conveyor.examples.support.InProcess;
import io.conveyor.examples.support.WorkloadSettings;
import io.conveyor.examples.transform.DemoTransform;
import io.conveyor.examples.transform.TransformSettings;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DirectPipelineDriverTest {

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  private static DirectSettings settings(long records, int batchSize, int window) {
    WorkloadSettings workload =
        WorkloadSettings.defaults("demo-source")
            .withRecords(records)
            .withBatchSize(batchSize)
            .withRecordBytes(100)
            .withRetries(20, new Backoff(Duration.ofMillis(5), Duration.ofMillis(20), 2.0, 0.5));
    return DirectSettings.defaults(workload)
        .withWindow(window)
        .withCallTimeout(Duration.ofSeconds(5));
  }

  private DirectPipelineDriver run(InProcess transform, InProcess sink, DirectSettings settings)
      throws InterruptedException {
    DirectPipelineDriver driver =
        new DirectPipelineDriver(transform.channel(), sink.channel(), settings);
    resources.add(driver);
    driver.start();
    assertThat(driver.awaitCompletion(Duration.ofSeconds(20)))
        .as("complete: %s", driver.snapshot().line())
        .isTrue();
    return driver;
  }

  private InProcess serve(io.grpc.BindableService service) {
    InProcess server = InProcess.serve(service);
    resources.add(server);
    return server;
  }

  @Test
  void deliversEveryUnfilteredRecordAndNeverSendsFilteredOnesToTheSink()
      throws InterruptedException {
    DemoSink sink = new DemoSink(SinkSettings.defaults());
    DirectPipelineDriver driver =
        run(
            serve(new DemoTransform(TransformSettings.defaults())),
            serve(sink),
            settings(10_000, 500, 8));

    DeliveryStats.Snapshot s = driver.snapshot();
    assertThat(s.produced()).isEqualTo(10_000);
    assertThat(s.delivered()).isEqualTo(9_000);
    assertThat(s.filtered()).isEqualTo(1_000);
    assertThat(s.failed()).isZero();
    assertThat(s.resent()).isZero();
    assertThat(s.batchesSent()).isEqualTo(20);
    assertThat(s.maxInFlightBatches()).isLessThanOrEqualTo(8);
    assertThat(driver.stats().latencyMicros().getTotalCount()).isEqualTo(20);

    SequenceLedger.Report report =
        sink.ledger().report(10_000, 10, Optional.empty(), OptionalInt.empty());
    assertThat(report.lost()).isZero();
    assertThat(report.delivered()).isEqualTo(9_000);
    assertThat(report.duplicates()).isZero();
    assertThat(report.filteredReceived()).as("filtered records reaching the sink").isZero();
    assertThat(sink.writes()).isEqualTo(9_000);
  }

  @Test
  void retriesInjectedTransformAndSinkFailuresUntilEverythingIsDelivered()
      throws InterruptedException {
    DemoTransform transform =
        new DemoTransform(
            TransformSettings.defaults().withFaults(FaultSettings.NONE.withFailures(0.05, 2)));
    DemoSink sink =
        new DemoSink(SinkSettings.defaults().withFaults(FaultSettings.NONE.withFailures(0.05, 1)));
    DirectPipelineDriver driver = run(serve(transform), serve(sink), settings(5_000, 250, 4));

    DeliveryStats.Snapshot s = driver.snapshot();
    assertThat(s.delivered()).isEqualTo(4_500);
    assertThat(s.filtered()).isEqualTo(500);
    assertThat(s.resent())
        .isEqualTo(transform.faults().injectedFailures() + sink.faults().injectedFailures());
    assertThat(s.resent()).isPositive();
    SequenceLedger.Report report =
        sink.ledger().report(5_000, 10, Optional.empty(), OptionalInt.empty());
    assertThat(report.lost()).isZero();
    assertThat(report.duplicates()).isZero();
    assertThat(report.filteredReceived()).isZero();
  }

  @Test
  void rejectedRecordsAreCountedFailedAndNotRetried() throws InterruptedException {
    DemoTransform transform =
        new DemoTransform(
            TransformSettings.defaults().withFaults(FaultSettings.NONE.withRejects(0.1)));
    DemoSink sink = new DemoSink(SinkSettings.defaults());
    DirectPipelineDriver driver = run(serve(transform), serve(sink), settings(2_000, 100, 4));
    DeliveryStats.Snapshot s = driver.snapshot();
    assertThat(s.failed()).isEqualTo(transform.faults().injectedRejects()).isPositive();
    assertThat(s.resent()).isZero();
    assertThat(s.finished()).isEqualTo(2_000);
  }

  @Test
  void aSinkCallThatFailsAsAWholeIsRetriedForItsRecords() throws InterruptedException {
    AtomicInteger calls = new AtomicInteger();
    AtomicLong written = new AtomicLong();
    SinkServiceGrpc.SinkServiceImplBase flaky =
        new SinkServiceGrpc.SinkServiceImplBase() {
          @Override
          public void writeBatch(
              WriteBatchRequest request, StreamObserver<WriteBatchResponse> out) {
            if (calls.incrementAndGet() % 3 == 1) {
              out.onError(
                  io.grpc.Status.UNAVAILABLE
                      .withDescription("sink restarting")
                      .asRuntimeException());
              return;
            }
            WriteBatchResponse.Builder response = WriteBatchResponse.newBuilder();
            for (Record ignored : request.getBatch().getRecordsList()) {
              response
                  .addResultsBuilder()
                  .setStatus(io.conveyor.etl.v1.SinkResult.Status.STATUS_OK);
              written.incrementAndGet();
            }
            out.onNext(response.build());
            out.onCompleted();
          }
        };
    DirectPipelineDriver driver =
        run(
            serve(new DemoTransform(TransformSettings.defaults())),
            serve(flaky),
            settings(1_000, 100, 2));
    DeliveryStats.Snapshot s = driver.snapshot();
    assertThat(s.delivered()).isEqualTo(900);
    assertThat(s.resent()).isPositive();
    assertThat(written.get()).isEqualTo(900);
  }

  @Test
  void stopsWaitingWhenClosed() throws InterruptedException {
    DemoTransform slow =
        new DemoTransform(
            TransformSettings.defaults()
                .withFaults(FaultSettings.NONE.withDelay(Duration.ofSeconds(5))));
    InProcess transform = serve(slow);
    InProcess sink = serve(new DemoSink(SinkSettings.defaults()));
    DirectPipelineDriver driver =
        new DirectPipelineDriver(transform.channel(), sink.channel(), settings(100, 10, 2));
    driver.start();
    driver.close();
    assertThat(driver.awaitCompletion(Duration.ofSeconds(1))).isFalse();
  }
}

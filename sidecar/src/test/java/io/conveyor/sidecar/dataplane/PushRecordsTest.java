package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.FakeStages.failed;
import static io.conveyor.sidecar.dataplane.FakeStages.filtered;
import static io.conveyor.sidecar.dataplane.FakeStages.ok;
import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The PushRecords contract, on one sidecar that runs source, transform and sink in its pod. */
class PushRecordsTest {

  private TestSidecar sidecar;
  private FakeStages.Transform transform;
  private FakeStages.Sink sink;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() {
    start(Map.of("PUSH_CREDITS", "4"));
  }

  private void start(Map<String, String> env) {
    sidecar = new TestSidecar("sidecar-a", env);
    transform = FakeStages.Transform.passThrough("mask");
    sink = new FakeStages.Sink("store");
    String transformEndpoint = sidecar.stage("a-transform", transform);
    String sinkEndpoint = sidecar.stage("a-sink", sink);
    sidecar.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", transformEndpoint),
        TestSidecar.sink("store", sinkEndpoint));
    sidecar.assign(
        assignment(
            1,
            pipeline(
                "etl",
                delivery(100, 3),
                stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, sidecar, sidecar),
                stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, sidecar, sidecar),
                stage(2, "store", StageRole.STAGE_ROLE_SINK, sidecar, sidecar))));
    channel = sidecar.channel();
  }

  @AfterEach
  void tearDown() {
    channel.shutdownNow();
    sidecar.close();
  }

  @Test
  void streamWithoutInitIsRejectedWithInvalidArgument() throws Exception {
    PushClient client = new PushClient(channel).send(batch("b1", 0, 3, 10));
    Status status = client.awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("first message").contains("init");
    assertThat(sink.calls.get()).isZero();
  }

  @Test
  void pipelineNotAssignedToThisSidecarIsAFailedPrecondition() throws Exception {
    Status status = new PushClient(channel).init("payments", "orders").awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(status.getDescription()).contains("payments").contains("sidecar-a").contains("etl");
  }

  @Test
  void aSourceThatIsNotThePipelinesSourceIsRefused() throws Exception {
    Status status = new PushClient(channel).init("etl", "clicks").awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(status.getDescription()).contains("orders").contains("clicks");
  }

  @Test
  void initWithoutPipelineFindsTheOnePipelineOfTheSource() throws Exception {
    PushClient client = new PushClient(channel).init("", "orders");
    PushResponse ready = client.next();
    assertThat(ready.getReady().getPipeline()).isEqualTo("etl");
  }

  @Test
  void oversizeMessageEndsTheStreamWithResourceExhausted() throws Exception {
    // Served on a real port with the transport limit the sidecar sets, so both the sidecar's own
    // check and the transport's are in play as in production.
    tearDown();
    start(Map.of("MAX_MESSAGE_BYTES", "64Ki"));
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(DataPlane.transportMessageLimit(64 * 1024))
            .addService(sidecar.plane.service())
            .build()
            .start();
    ManagedChannel tcp =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      PushClient client = new PushClient(tcp).init("etl", "orders");
      assertThat(client.next().hasReady()).isTrue();
      client.send(batch("huge", 0, 10, 10_000));
      Status status = client.awaitClosed();
      assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(status.getDescription()).contains("huge").contains("MAX_MESSAGE_BYTES");
      assertThat(sink.calls.get()).isZero();
    } finally {
      tcp.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void emptyBatchIsAcknowledgedAndReturnsItsCredit() throws Exception {
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().getReady().getCredits()).isEqualTo(4);
    client.send(RecordBatch.newBuilder().setBatchId("empty").build());
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getBatchId()).isEqualTo("empty");
    assertThat(ack.getResult().getOutcomesCount()).isZero();
    assertThat(ack.getCredits()).isEqualTo(1);
    assertThat(sink.calls.get()).isZero();
  }

  @Test
  void ackArrivesOnlyAfterTheSinkConfirmed() throws Exception {
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    client.send(batch("b1", 0, 5, 20));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);
    TestSidecar.awaitQuiet(200);
    assertThat(client.responses).as("no ack while the sink has not answered").isEmpty();

    sink.open();
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getBatchId()).isEqualTo("b1");
    assertThat(ack.getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED)
        .hasSize(5);
    assertThat(sink.sequences()).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(sink.written.get(0).getMetadataMap()).containsEntry("via", "mask");
  }

  @Test
  void creditsBoundTheBatchesInFlight() throws Exception {
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().getReady().getCredits()).isEqualTo(4);
    for (int i = 0; i < 6; i++) {
      client.send(batch("b" + i, i * 10L, 2, 10));
    }
    // The sidecar reads only as many batches as it granted credits for.
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 4);
    TestSidecar.awaitQuiet(300);
    assertThat(sink.calls.get()).isEqualTo(4);

    sink.open();
    List<String> acked = new ArrayList<>();
    int creditsReturned = 0;
    for (int i = 0; i < 6; i++) {
      BatchAck ack = client.nextAck().getAck();
      acked.add(ack.getBatchId());
      creditsReturned += ack.getCredits();
    }
    assertThat(acked).containsExactlyInAnyOrder("b0", "b1", "b2", "b3", "b4", "b5");
    assertThat(creditsReturned).isEqualTo(6);
    assertThat(sink.calls.get()).isEqualTo(6);
  }

  @Test
  void perRecordOutcomesTravelBackWithTheAck() throws Exception {
    transform.behaviour =
        (record, attempt) -> {
          long seq = record.getId().getSequence();
          if (seq == 1) {
            return filtered();
          }
          if (seq == 2) {
            return failed("payload is not JSON", false);
          }
          if (seq == 3) {
            return ok(); // OK without outputs counts as filtered
          }
          if (seq == 4) {
            return ok(record, record.toBuilder().setRecordType("copy").build());
          }
          return ok(record);
        };
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    client.send(batch("b1", 0, 5, 10));
    BatchAck ack = client.nextAck().getAck();

    assertThat(ack.getResult().getOutcomesList())
        .containsExactly(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_FAILED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(ack.getResult().getErrorsList())
        .singleElement()
        .satisfies(
            error -> {
              assertThat(error.getIndex()).isEqualTo(2);
              assertThat(error.getKind()).isEqualTo(FailureKind.FAILURE_KIND_REJECTED);
              assertThat(error.getStage()).isEqualTo("mask");
              assertThat(error.getMessage()).contains("not JSON");
            });
    assertThat(sink.sequences()).containsExactlyInAnyOrder(0L, 4L, 4L);
  }

  @Test
  void onlyTheRecordsThatFailedRetryablyAreRetried() throws Exception {
    // Sequence 3 fails twice then succeeds; sequence 4 always fails.
    sink.behaviour =
        (record, attempt) -> {
          long seq = record.getId().getSequence();
          if (seq == 3 && attempt < 2) {
            return FakeStages.failedSink("disk busy", true);
          }
          if (seq == 4) {
            return FakeStages.failedSink("disk busy", true);
          }
          return FakeStages.okSink();
        };
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    client.send(batch("b1", 0, 5, 10));
    BatchAck ack = client.nextAck().getAck();

    assertThat(ack.getResult().getOutcomesList())
        .containsExactly(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrors(0).getKind())
        .isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
    assertThat(ack.getResult().getErrors(0).getMessage())
        .contains("gave up after 4 attempts")
        .contains("disk busy");
    // Each record written exactly once; only 3 and 4 were sent again (4 attempts for 4: 1 + 3
    // retries).
    assertThat(sink.sequences()).containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
    assertThat(sink.attempts.of(0)).isEqualTo(1);
    assertThat(sink.attempts.of(3)).isEqualTo(3);
    assertThat(sink.attempts.of(4)).isEqualTo(4);
  }

  @Test
  void backpressureWithholdsCreditsAndGrantsThemBackWhenRelieved() throws Exception {
    tearDown();
    start(Map.of("PUSH_CREDITS", "4", "MAX_INFLIGHT_BYTES", "64Ki"));
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    // Each batch ~40 KiB of records: the second one takes the sidecar over its 64 KiB limit.
    for (int i = 0; i < 3; i++) {
      client.send(batch("b" + i, i * 100L, 10, 4_000));
    }
    PushResponse pressure = client.next();
    assertThat(pressure.hasBackpressure()).isTrue();
    assertThat(pressure.getBackpressure().getActive()).isTrue();
    assertThat(pressure.getBackpressure().getLimitBytes()).isEqualTo(64 * 1024);

    sink.open();
    List<PushResponse> others = new ArrayList<>();
    int creditsInAcks = 0;
    for (int i = 0; i < 3; i++) {
      creditsInAcks += client.nextAck(others).getAck().getCredits();
    }
    // Credits withheld during backpressure come back in a grant once it is over.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              others.addAll(client.responses);
              client.responses.clear();
              return others.stream().anyMatch(PushResponse::hasCredit);
            });
    int granted =
        others.stream()
            .filter(PushResponse::hasCredit)
            .mapToInt(r -> r.getCredit().getCredits())
            .sum();
    assertThat(creditsInAcks).isLessThan(3);
    assertThat(creditsInAcks + granted).isEqualTo(3);
    assertThat(others).anySatisfy(r -> assertThat(r.getBackpressure().getActive()).isFalse());
    // A batch's bytes are released just after its ack went out.
    await().atMost(Duration.ofSeconds(5)).until(() -> sidecar.inFlight.bytes() == 0);
  }

  @Test
  void drainingSidecarFailsNewBatchesRetryably() throws Exception {
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    sidecar.lifecycle.draining();
    client.send(batch("late", 0, 3, 10));
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList()).containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrorsList())
        .allSatisfy(e -> assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE));
    assertThat(sink.calls.get()).isZero();
  }

  @Test
  void largeBatchesAreSplitToThePipelinesBatchSize() throws Exception {
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    client.send(batch("big", 0, 250, 10));
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList())
        .hasSize(250)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(transform.calls.get()).isEqualTo(3); // maxBatchSize 100
    assertThat(sink.sequences()).hasSize(250).doesNotHaveDuplicates();
  }

  @Test
  void completingTheStreamAfterTheLastAckEndsItCleanly() throws Exception {
    PushClient client = new PushClient(channel).init("etl", "orders");
    client.next();
    client.send(batch("b1", 0, 2, 10));
    client.complete();
    assertThat(client.nextAck().getAck().getBatchId()).isEqualTo("b1");
    assertThat(client.awaitClosed().isOk()).isTrue();
  }
}

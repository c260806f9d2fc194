package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.ForwardBatchRequest;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The router's RevokePipeline, as the data plane carries it out: the pipeline is refused from the
 * moment of the revoke until the next assignment set, and its batches under way finish (drain) or
 * fail retryably at once (no drain).
 */
class RevokeTest {

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** One pod running source, transform and sink of pipeline "etl", its sink held by the test. */
  private final class Pod {
    final TestSidecar sidecar;
    final FakeStages.Sink sink = new FakeStages.Sink("store");
    final ManagedChannel channel;
    final AssignmentSet etl;

    Pod(String id, DeliveryOptions options) {
      sidecar = new TestSidecar(id, Map.of("PUSH_CREDITS", "4"));
      closeables.add(sidecar);
      closeables.add(sink::open); // never leave a server thread blocked in the sink
      sidecar.services(
          TestSidecar.source("orders"),
          TestSidecar.transform(
              "mask", sidecar.stage(id + "-mask", FakeStages.Transform.passThrough("mask"))),
          TestSidecar.sink("store", sidecar.stage(id + "-store", sink)));
      etl =
          assignment(
              1,
              pipeline(
                  "etl",
                  options,
                  stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, sidecar, sidecar),
                  stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, sidecar, sidecar),
                  stage(2, "store", StageRole.STAGE_ROLE_SINK, sidecar, sidecar)));
      sidecar.assign(etl);
      channel = sidecar.channel();
      closeables.add(channel::shutdownNow);
    }

    Pod(String id) {
      this(id, delivery(100, 3));
    }

    PushClient source() throws InterruptedException {
      PushClient client = new PushClient(channel).init("etl", "orders");
      assertThat(client.next().hasReady()).isTrue();
      return client;
    }

    /** Sends a batch the sink holds, and waits until the sink has it. */
    PushClient sourceWithHeldBatch() throws InterruptedException {
      sink.hold();
      PushClient client = source();
      client.send(batch("held", 0, 5, 20));
      await().atMost(Duration.ofSeconds(10)).until(() -> sink.calls.get() == 1);
      return client;
    }
  }

  @Test
  void withDrainTheBatchUnderWayIsDeliveredAndNewWorkIsRefused() throws Exception {
    Pod pod = new Pod("a");
    PushClient client = pod.sourceWithHeldBatch();

    pod.sidecar.plane.revoke("etl", true, "moved to another pod");

    Status newStream = new PushClient(pod.channel).init("etl", "orders").awaitClosed();
    assertThat(newStream.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(newStream.getDescription()).contains("'etl' is not assigned");
    assertThat(client.responses).as("no answer before the sink's").isEmpty();

    pod.sink.open();
    BatchAck held = client.nextAck().getAck();
    assertThat(held.getBatchId()).isEqualTo("held");
    assertThat(held.getResult().getOutcomesList())
        .hasSize(5)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(pod.sink.sequences()).containsExactly(0L, 1L, 2L, 3L, 4L);

    // A batch on the stream that was already open is refused, and the stream ends.
    client.send(batch("late", 10, 3, 20));
    BatchAck late = client.nextAck().getAck();
    assertThat(late.getBatchId()).isEqualTo("late");
    assertThat(late.getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(late.getResult().getErrorsList())
        .allSatisfy(e -> assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE));
    assertThat(client.awaitClosed().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(pod.sink.calls.get()).isEqualTo(1);
  }

  @Test
  void withoutDrainTheBatchUnderWayFailsRetryablyAtOnceAndIsAnsweredOnlyOnce() throws Exception {
    Pod pod = new Pod("a");
    PushClient client = pod.sourceWithHeldBatch();

    pod.sidecar.plane.revoke("etl", false, "pipeline deleted");

    // Answered while the sink still holds the records.
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getBatchId()).isEqualTo("held");
    assertThat(ack.getResult().getOutcomesList())
        .hasSize(5)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrorsList())
        .hasSize(5)
        .allSatisfy(
            e -> {
              assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
              assertThat(e.getMessage())
                  .contains("'etl' was revoked from sidecar a")
                  .contains("pipeline deleted");
            });
    assertThat(pod.sink.written).isEmpty();
    // Released just after the ack went out.
    await().atMost(Duration.ofSeconds(5)).until(() -> pod.sidecar.inFlight.batches() == 0);

    // The sink's late answer goes nowhere: no second ack, nothing released twice.
    pod.sink.open();
    await().atMost(Duration.ofSeconds(10)).until(() -> pod.sink.written.size() == 5);
    assertThat(client.responses).isEmpty();
    assertThat(pod.sidecar.inFlight.bytes()).isZero();
    assertThat(pod.sidecar.inFlight.batches()).isZero();
    assertThat(pod.sidecar.executor.batchesInFlight("etl")).isZero();
  }

  @Test
  void withoutDrainRetriesWaitingForTheirBackoffAreCancelled() throws Exception {
    DeliveryOptions slowRetries =
        DeliveryOptions.newBuilder()
            .setMaxBatchSize(100)
            .setMaxRetries(3)
            .setRetryBackoffMillis(20_000)
            .setBatchTimeoutMillis(120_000)
            .build();
    Pod pod = new Pod("a", slowRetries);
    pod.sink.behaviour = (record, attempt) -> FakeStages.failedSink("disk busy", true);
    PushClient client = pod.source();
    client.send(batch("b1", 0, 3, 20));
    await().atMost(Duration.ofSeconds(10)).until(() -> pod.sidecar.executor.waitingRetries() == 1);

    pod.sidecar.plane.revoke("etl", false, "pipeline deleted");

    assertThat(pod.sidecar.executor.waitingRetries()).isZero();
    BatchAck ack = client.nextAck().getAck();
    assertThat(ack.getResult().getErrorsList())
        .extracting(RecordError::getMessage)
        .allSatisfy(m -> assertThat(m).contains("revoked").doesNotContain("gave up"));
    assertThat(pod.sink.calls.get()).isEqualTo(1);
    assertThat(pod.sidecar.executor.batchesInFlight("etl")).isZero();
  }

  @Test
  void aForwardedBatchForARevokedPipelineIsAFailedPrecondition() {
    Pod pod = new Pod("b");
    pod.sidecar.plane.revoke("etl", true, "moved to another pod");

    assertThatThrownBy(
            () ->
                SidecarDataPlaneGrpc.newBlockingStub(pod.channel)
                    .forwardBatch(
                        ForwardBatchRequest.newBuilder()
                            .setPipeline("etl")
                            .setStageIndex(2)
                            .setStage("store")
                            .setBatch(batch("fwd", 0, 3, 10))
                            .setOriginSidecarId("a")
                            .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("'etl' is not assigned");
            });
    assertThat(pod.sink.calls.get()).isZero();
  }

  @Test
  void aForwardedBatchUnderWayFailsRetryablyAtItsSourceWhenTheReceiverIsRevokedWithoutDrain()
      throws Exception {
    FakeStages.Sink sink = new FakeStages.Sink("store");
    closeables.add(sink::open);
    TestSidecar a = new TestSidecar("a");
    TestSidecar b = new TestSidecar("b");
    closeables.add(a);
    closeables.add(b);
    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", a.stage("a-mask", FakeStages.Transform.passThrough("mask"))));
    b.services(TestSidecar.sink("store", b.stage("b-store", sink)));
    for (TestSidecar self : List.of(a, b)) {
      self.assign(
          assignment(
              1,
              pipeline(
                  "etl",
                  delivery(100, 0),
                  stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, self, a),
                  stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, self, a),
                  stage(2, "store", StageRole.STAGE_ROLE_SINK, self, b))));
    }
    sink.hold();
    ManagedChannel channel = a.channel();
    closeables.add(channel::shutdownNow);
    PushClient source = new PushClient(channel).init("etl", "orders");
    source.next();
    source.send(batch("b1", 0, 4, 20));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.calls.get() == 1);

    b.plane.revoke("etl", false, "pipeline deleted");

    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList()).containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrorsList())
        .allSatisfy(
            e -> {
              assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
              assertThat(e.getMessage()).contains("revoked from sidecar b");
            });
  }

  @Test
  void aLaterAssignmentSetThatListsThePipelineMakesItAcceptedAgain() throws Exception {
    Pod pod = new Pod("a");
    pod.sidecar.plane.revoke("etl", true, "moved to another pod");
    assertThat(new PushClient(pod.channel).init("etl", "orders").awaitClosed().getCode())
        .isEqualTo(Status.Code.FAILED_PRECONDITION);

    pod.sidecar.assign(pod.etl.toBuilder().setVersion(2).build());

    PushClient client = pod.source();
    client.send(batch("b1", 0, 3, 20));
    assertThat(client.nextAck().getAck().getResult().getOutcomesList())
        .hasSize(3)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
  }
}

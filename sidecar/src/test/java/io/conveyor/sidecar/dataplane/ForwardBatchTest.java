package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.FakeStages.failed;
import static io.conveyor.sidecar.dataplane.FakeStages.ok;
import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.remoteStage;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.ForwardBatchRequest;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Batches crossing pods: sidecar A runs source and transform, sidecars B* run the sink. */
class ForwardBatchTest {

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private TestSidecar sidecar(String id, Map<String, String> env) {
    TestSidecar sidecar = new TestSidecar(id, env);
    closeables.add(sidecar);
    return sidecar;
  }

  private ManagedChannel channel(TestSidecar sidecar) {
    ManagedChannel channel = sidecar.channel();
    closeables.add(channel::shutdownNow);
    return channel;
  }

  /** Pod A: source + transform. */
  private TestSidecar podA(FakeStages.Transform transform) {
    TestSidecar a = sidecar("a", Map.of());
    a.services(
        TestSidecar.source("orders"), TestSidecar.transform("mask", a.stage("a-mask", transform)));
    return a;
  }

  /** Pod B: a sink (and its sidecar). */
  private TestSidecar podB(String id, FakeStages.Sink sink, Map<String, String> env) {
    TestSidecar b = sidecar(id, env);
    b.services(TestSidecar.sink("store", b.stage(id + "-store", sink)));
    return b;
  }

  private static PipelineAssignment etl(
      TestSidecar self, TestSidecar a, StageAssignment sinkStage, StageAssignment... more) {
    List<StageAssignment> stages = new ArrayList<>();
    stages.add(stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, self, a));
    stages.add(stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, self, a));
    stages.add(sinkStage);
    stages.addAll(List.of(more));
    return pipeline("etl", delivery(500, 2), stages.toArray(StageAssignment[]::new));
  }

  private static void assignAll(AssignmentSet set, TestSidecar... sidecars) {
    for (TestSidecar s : sidecars) {
      s.assign(set);
    }
  }

  @Test
  void recordsCrossToTheSinkOnAnotherPodAndTheAckWaitsForIt() throws Exception {
    FakeStages.Transform transform = FakeStages.Transform.passThrough("mask");
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar a = podA(transform);
    TestSidecar b = podB("b", sink, Map.of());
    a.assign(assignment(1, etl(a, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b))));
    b.assign(assignment(1, etl(b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b))));

    sink.hold();
    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    source.send(batch("b1", 0, 50, 100));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);
    TestSidecar.awaitQuiet(200);
    assertThat(source.responses).isEmpty();
    sink.open();

    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList())
        .hasSize(50)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(sink.sequences()).hasSize(50).doesNotHaveDuplicates();
    assertThat(sink.written.get(0).getMetadataMap()).containsEntry("via", "mask");
  }

  @Test
  void aForwardedStageCountsTheRecordsTheOtherSidecarAnsweredFor() throws Exception {
    FakeStages.Transform transform =
        new FakeStages.Transform(
            "mask",
            (record, attempt) -> ok(record, record.toBuilder().setRecordType("copy").build()));
    FakeStages.Sink sink = new FakeStages.Sink("store");
    sink.behaviour =
        (record, attempt) ->
            record.getId().getSequence() == 3 && record.getRecordType().equals("copy")
                ? FakeStages.failedSink("schema", false)
                : FakeStages.okSink();
    TestSidecar a = podA(transform);
    TestSidecar b = podB("b", sink, Map.of());
    a.assign(assignment(1, etl(a, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b))));
    b.assign(assignment(1, etl(b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b))));

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    source.send(batch("b1", 0, 10, 20));
    assertThat(source.nextAck().getAck().getResult().getOutcomesList()).hasSize(10);

    // 20 outputs went to b: 19 written, 1 rejected. A counts them for the stage it forwarded.
    assertThat(recordsOut(a, "store", "delivered")).isEqualTo(19.0);
    assertThat(recordsOut(a, "store", "failed")).isEqualTo(1.0);
    assertThat(recordsOut(b, "store", "delivered")).isEqualTo(19.0);
    assertThat(a.meters.get("conveyor_sidecar_records_in").tag("stage", "store").counter().count())
        .isEqualTo(20.0);
  }

  private static double recordsOut(TestSidecar sidecar, String stage, String outcome) {
    return sidecar
        .meters
        .get("conveyor_sidecar_records_out")
        .tag("stage", stage)
        .tag("outcome", outcome)
        .counter()
        .count();
  }

  @Test
  void batchesAreSpreadOverEveryReplicaOfTheNextStage() throws Exception {
    FakeStages.Sink sink1 = new FakeStages.Sink("store");
    FakeStages.Sink sink2 = new FakeStages.Sink("store");
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    TestSidecar b1 = podB("b1", sink1, Map.of());
    TestSidecar b2 = podB("b2", sink2, Map.of());
    a.assign(assignment(1, etl(a, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b1, b2))));
    b1.assign(assignment(1, etl(b1, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b1, b1, b2))));
    b2.assign(assignment(1, etl(b2, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b2, b1, b2))));

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    for (int i = 0; i < 20; i++) {
      source.send(batch("b" + i, i * 10L, 10, 20));
      assertThat(source.nextAck().getAck().getResult().getOutcomesList())
          .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    }
    assertThat(sink1.calls.get() + sink2.calls.get()).isEqualTo(20);
    assertThat(sink1.calls.get()).isGreaterThanOrEqualTo(5);
    assertThat(sink2.calls.get()).isGreaterThanOrEqualTo(5);
  }

  @Test
  void aDeadReplicaIsEjectedAndTheOtherTakesTheTraffic() throws Exception {
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    TestSidecar b = podB("b", sink, Map.of());
    // "dead" is listed by the router but nothing serves it any more.
    StageAssignment sinkStage =
        StageAssignment.newBuilder(remoteStage(2, "store", StageRole.STAGE_ROLE_SINK, "dead", "b"))
            .build();
    a.assign(assignment(1, etl(a, a, sinkStage)));
    b.assign(assignment(1, etl(b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b))));

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    for (int i = 0; i < 10; i++) {
      source.send(batch("b" + i, i * 10L, 10, 20));
      assertThat(source.nextAck().getAck().getResult().getOutcomesList())
          .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    }
    assertThat(sink.sequences()).hasSize(100).doesNotHaveDuplicates();
    // After its first failure the dead replica is ejected: at most one call went to it.
    assertThat(
            a.meters
                .get("conveyor_sidecar_stage_call_failures")
                .tag("stage", "store")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void withNoReplicaLeftRecordsFailRetryablyWithTheReason() throws Exception {
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    a.assign(assignment(1, etl(a, a, remoteStage(2, "store", StageRole.STAGE_ROLE_SINK, "gone"))));
    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    source.send(batch("b1", 0, 3, 10));
    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList()).containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrors(0).getKind())
        .isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
    assertThat(ack.getResult().getErrors(0).getMessage()).contains("gone");
  }

  @Test
  void forwardToASidecarThatDoesNotRunTheStageIsAFailedPrecondition() {
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    a.assign(assignment(1, etl(a, a, remoteStage(2, "store", StageRole.STAGE_ROLE_SINK, "b"))));
    SidecarDataPlaneGrpc.SidecarDataPlaneBlockingStub stub =
        SidecarDataPlaneGrpc.newBlockingStub(channel(a));

    assertThatThrownBy(() -> stub.forwardBatch(forward("etl", 2, "store")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("does not run in the pod");
            });
    assertThatThrownBy(() -> stub.forwardBatch(forward("payments", 1, "mask")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getDescription()).contains("'payments' is not assigned"));
    assertThatThrownBy(() -> stub.forwardBatch(forward("etl", 1, "enrich")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e ->
                assertThat(e.getStatus().getDescription())
                    .contains("is 'mask' here, not 'enrich'"));
  }

  @Test
  void forwardPastTheInFlightLimitIsResourceExhausted() throws Exception {
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar b = podB("b", sink, Map.of("MAX_INFLIGHT_BYTES", "64Ki"));
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    b.assign(assignment(1, etl(b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b))));
    sink.hold();
    SidecarDataPlaneGrpc.SidecarDataPlaneFutureStub stub =
        SidecarDataPlaneGrpc.newFutureStub(channel(b));

    var first = stub.forwardBatch(forward("etl", 2, "store", 10, 5_000));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);
    var second = stub.forwardBatch(forward("etl", 2, "store", 10, 5_000));
    assertThatThrownBy(() -> second.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class)
        .satisfies(
            e -> {
              Status status = Status.fromThrowable(e.getCause());
              assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(status.getDescription()).contains("in-flight bytes");
            });
    sink.open();
    assertThat(first.get(5, TimeUnit.SECONDS).getResult().getOutcomesList())
        .hasSize(10)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
  }

  @Test
  void anOverloadedReplicaIsAvoidedAndTheBatchStillArrives() throws Exception {
    FakeStages.Sink busy = new FakeStages.Sink("store");
    FakeStages.Sink idle = new FakeStages.Sink("store");
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    TestSidecar b1 = podB("b1", busy, Map.of("MAX_INFLIGHT_BYTES", "64Ki"));
    TestSidecar b2 = podB("b2", idle, Map.of());
    StageAssignment sinks = stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b1, b2);
    a.assign(assignment(1, etl(a, a, sinks)));
    b1.assign(assignment(1, etl(b1, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b1, b1, b2))));
    b2.assign(assignment(1, etl(b2, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b2, b1, b2))));
    // Fill b1 up to its limit with a batch its sink holds.
    busy.hold();
    CompletableFuture.runAsync(
        () ->
            SidecarDataPlaneGrpc.newBlockingStub(channel(b1))
                .forwardBatch(forward("etl", 2, "store", 20, 4_000)));
    await().atMost(Duration.ofSeconds(5)).until(() -> busy.calls.get() == 1);

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    for (int i = 0; i < 6; i++) {
      source.send(batch("b" + i, 1000 + i * 10L, 10, 20));
      assertThat(source.nextAck().getAck().getResult().getOutcomesList())
          .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    }
    assertThat(idle.sequences()).hasSize(60);
    busy.open();
  }

  @Test
  void rejectedRecordsGoToTheDeadLetterSinkWithTheReason() throws Exception {
    FakeStages.Transform transform =
        new FakeStages.Transform(
            "mask",
            (record, attempt) ->
                record.getId().getSequence() % 2 == 0 ? ok(record) : failed("bad payload", false));
    FakeStages.Sink sink = new FakeStages.Sink("store");
    FakeStages.Sink dlq = new FakeStages.Sink("parking");
    TestSidecar a = podA(transform);
    TestSidecar b = sidecar("b", Map.of());
    b.services(
        TestSidecar.sink("store", b.stage("b-store", sink)),
        TestSidecar.sink("parking", b.stage("b-parking", dlq)));
    StageAssignment sinkStageA = stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b);
    StageAssignment dlqStageA = stage(3, "parking", StageRole.STAGE_ROLE_DEAD_LETTER, a, b);
    a.assign(assignment(1, etl(a, a, sinkStageA, dlqStageA)));
    b.assign(
        assignment(
            1,
            etl(
                b,
                a,
                stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b),
                stage(3, "parking", StageRole.STAGE_ROLE_DEAD_LETTER, b, b))));

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    source.send(batch("b1", 0, 4, 10));
    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList())
        .containsExactly(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED,
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED);
    assertThat(sink.sequences()).containsExactlyInAnyOrder(0L, 2L);
    assertThat(dlq.sequences()).containsExactlyInAnyOrder(1L, 3L);
    assertThat(dlq.written.get(0).getMetadataMap())
        .containsEntry(PipelineExecutor.ERROR_KEY, "bad payload")
        .containsEntry(PipelineExecutor.FAILED_STAGE_KEY, "mask")
        .containsEntry(PipelineExecutor.PIPELINE_KEY, "etl");
  }

  @Test
  void aDrainingSidecarRefusesForwardsAndTheSenderFailsOver() throws Exception {
    FakeStages.Sink draining = new FakeStages.Sink("store");
    FakeStages.Sink serving = new FakeStages.Sink("store");
    TestSidecar a = podA(FakeStages.Transform.passThrough("mask"));
    TestSidecar b1 = podB("b1", draining, Map.of());
    TestSidecar b2 = podB("b2", serving, Map.of());
    a.assign(assignment(1, etl(a, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b1, b2))));
    b1.assign(assignment(1, etl(b1, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b1, b1))));
    b2.assign(assignment(1, etl(b2, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b2, b2))));
    b1.lifecycle.draining();

    assertThatThrownBy(
            () ->
                SidecarDataPlaneGrpc.newBlockingStub(channel(b1))
                    .forwardBatch(forward("etl", 2, "store")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

    PushClient source = new PushClient(channel(a)).init("etl", "orders");
    source.next();
    for (int i = 0; i < 5; i++) {
      source.send(batch("b" + i, i * 10L, 10, 20));
      assertThat(source.nextAck().getAck().getResult().getOutcomesList())
          .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    }
    assertThat(draining.calls.get()).isZero();
    assertThat(serving.sequences()).hasSize(50);
  }

  private static ForwardBatchRequest forward(String pipeline, int index, String stage) {
    return forward(pipeline, index, stage, 3, 10);
  }

  private static ForwardBatchRequest forward(
      String pipeline, int index, String stage, int records, int bytes) {
    return ForwardBatchRequest.newBuilder()
        .setPipeline(pipeline)
        .setStageIndex(index)
        .setStage(stage)
        .setBatch(batch("fwd", 0, records, bytes))
        .setOriginSidecarId("test")
        .build();
  }
}

package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.sidecar.routing.LocalService;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pipeline whose next stage has no instance yet (its pod not registered yet, or between a restart
 * and its re-registration): the batch waits for one, bounded by its deadline, instead of failing at
 * once and having its source re-send it in a busy loop.
 */
class StageWithoutInstanceTest {

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private TestSidecar sidecar(String id) {
    TestSidecar sidecar = new TestSidecar(id, Map.of());
    closeables.add(sidecar);
    return sidecar;
  }

  private PushClient source(TestSidecar sidecar) throws InterruptedException {
    ManagedChannel channel = sidecar.channel();
    closeables.add(channel::shutdownNow);
    PushClient source = new PushClient(channel).init("etl", "orders");
    assertThat(source.next().hasReady()).isTrue();
    return source;
  }

  /** Pod A: source and transform; the sink stage is {@code sinkStage}. */
  private static AssignmentSet etl(
      long version, TestSidecar self, TestSidecar a, StageAssignment sinkStage) {
    return assignment(
        version,
        pipeline(
            "etl",
            delivery(500, 2),
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, self, a),
            stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, self, a),
            sinkStage));
  }

  private static StageAssignment sinkWithoutInstance() {
    return StageAssignment.newBuilder()
        .setIndex(2)
        .setName("store")
        .setRole(StageRole.STAGE_ROLE_SINK)
        .build();
  }

  @Test
  void aBatchWaitsForTheSinkToRegisterAndIsDeliveredOnceWhenItDoes() throws Exception {
    FakeStages.Transform transform = FakeStages.Transform.passThrough("mask");
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar a = sidecar("a");
    a.services(
        TestSidecar.source("orders"), TestSidecar.transform("mask", a.stage("a-mask", transform)));
    a.assign(etl(1, a, a, sinkWithoutInstance()));

    PushClient source = source(a);
    source.send(batch("b1", 0, 20, 50));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.executor.waitingForStage() == 1);
    assertThat(source.responses).as("no answer while no sink runs").isEmpty();

    // The sink's pod registers: the router's next set lists it.
    TestSidecar b = sidecar("b");
    b.services(TestSidecar.sink("store", b.stage("b-store", sink)));
    b.assign(etl(2, b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b)));
    a.assign(etl(2, a, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, a, b)));

    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getBatchId()).isEqualTo("b1");
    assertThat(ack.getResult().getOutcomesList())
        .hasSize(20)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(sink.sequences()).hasSize(20).doesNotHaveDuplicates();
    assertThat(transform.calls.get()).as("the transform ran once").isEqualTo(1);
    assertThat(a.executor.waitingForStage()).isZero();
    assertThat(
            a.meters
                .get("conveyor_sidecar_stage_waits")
                .tag("pipeline", "etl")
                .tag("stage", "store")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aBatchWaitsForTheSinkOfItsOwnPodToBeDiscovered() throws Exception {
    FakeStages.Sink sink = waitThenDiscoverTheOwnSink(0);
    assertThat(sink.calls.get()).isEqualTo(1);
  }

  @Test
  void aWaitingChunkIsCutAgainToTheBatchSizeOfTheServiceItFinds() throws Exception {
    // Cut for the pipeline's 500 while no one ran the sink; the pod's own sink then takes 2 per
    // call. Sent as one call of 5 it would be refused for its size (a reject, dead-lettered).
    FakeStages.Sink sink = waitThenDiscoverTheOwnSink(2);
    assertThat(sink.calls.get()).as("5 records, 2 per call").isEqualTo(3);
  }

  /**
   * Pod A pushes 5 records while no sidecar runs the sink; then its own sink starts listening,
   * taking {@code sinkBatchSize} records per call (0: any), and discovery finds it before the
   * router heard of it. Every record is delivered once.
   */
  private FakeStages.Sink waitThenDiscoverTheOwnSink(int sinkBatchSize) throws Exception {
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar a = sidecar("a");
    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", a.stage("a-mask", FakeStages.Transform.passThrough("mask"))));
    a.assign(etl(1, a, a, sinkWithoutInstance()));

    PushClient source = source(a);
    source.send(batch("b1", 0, 5, 20));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.executor.waitingForStage() == 1);

    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", "a-mask"),
        new LocalService(
            "store", ServiceType.SERVICE_TYPE_SINK, a.stage("a-store", sink), sinkBatchSize));

    assertThat(source.nextAck().getAck().getResult().getOutcomesList())
        .hasSize(5)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    // Cut in parts, the parts are written concurrently: once each, in any order.
    assertThat(sink.sequences()).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L);
    return sink;
  }

  @Test
  void aWaitingBatchFailsRetryablyAtOnceWhenThePipelineIsRevoked() throws Exception {
    TestSidecar a = sidecar("a");
    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", a.stage("a-mask", FakeStages.Transform.passThrough("mask"))));
    a.assign(etl(1, a, a, sinkWithoutInstance()));
    PushClient source = source(a);
    source.send(batch("b1", 0, 3, 20));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.executor.waitingForStage() == 1);

    // With drain: batches under way may finish, but this one cannot any more.
    a.plane.revoke("etl", true, "moved to another pod");

    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getOutcomesList()).containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(ack.getResult().getErrorsList())
        .allSatisfy(
            e -> {
              assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
              assertThat(e.getStage()).isEqualTo("store");
              assertThat(e.getMessage()).contains("'etl' is no longer assigned");
            });
    assertThat(a.executor.waitingForStage()).isZero();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.inFlight.batches() == 0);
  }

  @Test
  void aWaitingBatchFailsRetryablyAtOnceWhenTheSidecarDrains() throws Exception {
    TestSidecar a = sidecar("a");
    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", a.stage("a-mask", FakeStages.Transform.passThrough("mask"))));
    a.assign(etl(1, a, a, sinkWithoutInstance()));
    PushClient source = source(a);
    source.send(batch("b1", 0, 3, 20));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.executor.waitingForStage() == 1);

    a.lifecycle.draining();
    a.executor.stopWaiting("sidecar a is draining");

    BatchAck ack = source.nextAck().getAck();
    assertThat(ack.getResult().getErrorsList())
        .extracting(RecordError::getMessage)
        .allSatisfy(
            m -> assertThat(m).contains("no sidecar runs stage 'store'").contains("draining"));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.inFlight.batches() == 0);
  }
}

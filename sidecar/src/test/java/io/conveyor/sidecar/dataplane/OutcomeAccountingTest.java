package io.conveyor.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.BatchResult;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.sidecar.wire.v1.TransformResultView;
import org.junit.jupiter.api.Test;

/** Per-record outcome accounting: BatchOutcome and the transform fan-out. */
class OutcomeAccountingTest {

  @Test
  void aRecordWithoutOutcomeCannotBeReported() {
    BatchOutcome outcome = new BatchOutcome(2);
    outcome.deliver(0);
    assertThatThrownBy(outcome::toProto)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("record 1 of 2");
  }

  @Test
  void roundTripsThroughTheWireForm() {
    BatchOutcome outcome = new BatchOutcome(3);
    outcome.deliver(0);
    outcome.filter(1);
    outcome.fail(2, FailureKind.FAILURE_KIND_REJECTED, "mask", "bad");
    BatchResult proto = outcome.toProto();
    assertThat(proto.getOutcomesList())
        .containsExactly(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(proto.getErrorsList())
        .singleElement()
        .satisfies(e -> assertThat(e.getIndex()).isEqualTo(2));
    BatchOutcome back = BatchOutcome.fromProto(proto, 3, "store");
    assertThat(back.toProto()).isEqualTo(proto);
  }

  @Test
  void aPeerAnsweringForTheWrongNumberOfRecordsFailsThemAllRetryably() {
    BatchResult short1 =
        BatchResult.newBuilder().addOutcomes(RecordOutcome.RECORD_OUTCOME_DELIVERED).build();
    BatchOutcome outcome = BatchOutcome.fromProto(short1, 3, "store");
    for (int i = 0; i < 3; i++) {
      assertThat(outcome.outcome(i)).isEqualTo(RecordOutcome.RECORD_OUTCOME_FAILED);
      assertThat(outcome.error(i).getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
      assertThat(outcome.error(i).getMessage()).contains("1 outcomes for 3 records");
    }
  }

  @Test
  void unspecifiedOutcomesFromAPeerAreFailuresNotDeliveries() {
    BatchResult result =
        BatchResult.newBuilder()
            .addOutcomes(RecordOutcome.RECORD_OUTCOME_UNSPECIFIED)
            .addOutcomes(RecordOutcome.RECORD_OUTCOME_FAILED)
            .build();
    BatchOutcome outcome = BatchOutcome.fromProto(result, 2, "store");
    assertThat(outcome.isFailed(0)).isTrue();
    assertThat(outcome.isFailed(1)).isTrue();
    assertThat(outcome.error(1).getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
  }

  @Test
  void copyAllPlacesAPartAtItsOffset() {
    BatchOutcome part = new BatchOutcome(2);
    part.deliver(0);
    part.fail(1, FailureKind.FAILURE_KIND_RETRYABLE, "store", "down");
    BatchOutcome whole = new BatchOutcome(4);
    whole.filter(0);
    whole.filter(1);
    whole.copyAll(2, part);
    assertThat(whole.outcome(2)).isEqualTo(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(whole.error(3).getIndex()).isEqualTo(3);
  }

  @Test
  void anInputsFateFollowsItsOutputs() {
    // input 0 -> 2 outputs both delivered; input 1 filtered by the transform;
    // input 2 -> 2 outputs, one failed retryably; input 3 -> 1 output filtered downstream;
    // input 4 -> 1 output dead-lettered downstream.
    TransformResultView[] results = {
      view(TransformResult.Status.STATUS_OK, 2),
      view(TransformResult.Status.STATUS_FILTERED, 0),
      view(TransformResult.Status.STATUS_OK, 2),
      view(TransformResult.Status.STATUS_OK, 1),
      view(TransformResult.Status.STATUS_OK, 1),
    };
    BatchOutcome inputs = new BatchOutcome(5);
    TransformFanout fanout = TransformFanout.collect(results, inputs);
    assertThat(fanout.outputs()).hasSize(6);
    assertThat(inputs.outcome(1)).isEqualTo(RecordOutcome.RECORD_OUTCOME_FILTERED);

    BatchOutcome downstream = new BatchOutcome(6);
    downstream.deliver(0);
    downstream.deliver(1);
    downstream.deliver(2);
    downstream.fail(3, FailureKind.FAILURE_KIND_RETRYABLE, "store", "timeout");
    downstream.filter(4);
    downstream.fail(5, FailureKind.FAILURE_KIND_REJECTED, "store", "schema");
    downstream.deadLetter(5);
    fanout.resolve(inputs, downstream);

    assertThat(inputs.toProto().getOutcomesList())
        .containsExactly(
            RecordOutcome.RECORD_OUTCOME_DELIVERED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_FAILED,
            RecordOutcome.RECORD_OUTCOME_FILTERED,
            RecordOutcome.RECORD_OUTCOME_DEAD_LETTERED);
    RecordError failure = inputs.error(2);
    assertThat(failure.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
    assertThat(failure.getStage()).isEqualTo("store");
    assertThat(failure.getIndex()).isEqualTo(2);
  }

  @Test
  void inFlightAdmitsUpToItsLimitAndSignalsTheLowWatermark() {
    InFlight inFlight = new InFlight(100);
    assertThat(inFlight.tryAcquire(60)).isTrue();
    assertThat(inFlight.tryAcquire(60)).as("over the limit").isFalse();
    assertThat(inFlight.acquire(60)).as("forced admission reports being over").isTrue();
    assertThat(inFlight.release(60)).as("60 left: above the low watermark of 50").isFalse();
    assertThat(inFlight.release(60)).isTrue();
    assertThat(inFlight.batches()).isZero();
    assertThat(new InFlight(100).tryAcquire(500)).as("a lone batch always fits").isTrue();
  }

  private static TransformResultView view(TransformResult.Status status, int outputs) {
    TransformResultView.Builder view = TransformResultView.newBuilder().setStatus(status);
    for (int i = 0; i < outputs; i++) {
      view.addOutputs(ByteString.copyFromUtf8("out" + i));
    }
    return view.build();
  }
}

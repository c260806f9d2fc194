package io.conveyor.sidecar.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.conveyor.etl.v1.ForwardBatchRequest;
import io.conveyor.etl.v1.ProcessBatchRequest;
import io.conveyor.etl.v1.ProcessBatchResponse;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.PushRequestView;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import org.junit.jupiter.api.Test;

/**
 * The wire views must read and write exactly what the public contracts do: a message written by a
 * user's service and read as a view, or written as a view and read by a user's service, is the same
 * message. A field added to a public message and not to its view fails here.
 */
class WireCompatibilityTest {

  private static final Record RECORD =
      Record.newBuilder()
          .setId(RecordId.newBuilder().setSourceId("orders").setPartition(3).setSequence(42))
          .setRecordType("order.v2")
          .setKey(ByteString.copyFromUtf8("customer-7"))
          .setPayload(ByteString.copyFromUtf8("{\"total\": 12.5}"))
          .putMetadata("trace", "abc")
          .setEventTime(Timestamp.newBuilder().setSeconds(1_700_000_000).setNanos(5))
          .build();
  private static final RecordBatch BATCH =
      RecordBatch.newBuilder()
          .setBatchId("b-1")
          .addRecords(RECORD)
          .addRecords(RECORD.toBuilder().setPayload(ByteString.EMPTY))
          .build();

  @Test
  void pushRequestsRoundTrip() throws Exception {
    PushRequest batch = PushRequest.newBuilder().setBatch(BATCH).build();
    PushRequestView view = PushRequestView.parseFrom(batch.toByteArray());
    assertThat(view.getBatch().getRecordsCount()).isEqualTo(2);
    assertThat(Record.parseFrom(view.getBatch().getRecords(0))).isEqualTo(RECORD);
    assertThat(PushRequest.parseFrom(view.toByteArray())).isEqualTo(batch);

    PushRequest init =
        PushRequest.newBuilder()
            .setInit(PushInit.newBuilder().setPipeline("etl").setSourceName("orders"))
            .build();
    assertThat(PushRequest.parseFrom(PushRequestView.parseFrom(init.toByteArray()).toByteArray()))
        .isEqualTo(init);
  }

  @Test
  void stageRequestsRoundTrip() throws Exception {
    ForwardBatchRequest forward =
        ForwardBatchRequest.newBuilder()
            .setPipeline("etl")
            .setStageIndex(2)
            .setStage("store")
            .setBatch(BATCH)
            .setOriginSidecarId("a")
            .build();
    assertThat(
            ForwardBatchRequest.parseFrom(
                ForwardBatchRequestView.parseFrom(forward.toByteArray()).toByteArray()))
        .isEqualTo(forward);

    ProcessBatchRequest process =
        ProcessBatchRequest.newBuilder()
            .setBatch(BATCH)
            .setPipeline("etl")
            .setStage("mask")
            .build();
    assertThat(
            ProcessBatchRequest.parseFrom(
                ProcessBatchRequestView.parseFrom(process.toByteArray()).toByteArray()))
        .isEqualTo(process);

    WriteBatchRequest write =
        WriteBatchRequest.newBuilder().setBatch(BATCH).setPipeline("etl").setStage("store").build();
    assertThat(
            WriteBatchRequest.parseFrom(
                WriteBatchRequestView.parseFrom(write.toByteArray()).toByteArray()))
        .isEqualTo(write);
  }

  @Test
  void transformResponsesKeepEveryOutputAndStatus() throws Exception {
    ProcessBatchResponse response =
        ProcessBatchResponse.newBuilder()
            .addResults(
                TransformResult.newBuilder()
                    .setStatus(TransformResult.Status.STATUS_OK)
                    .addOutputs(RECORD)
                    .addOutputs(RECORD))
            .addResults(
                TransformResult.newBuilder().setStatus(TransformResult.Status.STATUS_FILTERED))
            .addResults(
                TransformResult.newBuilder()
                    .setStatus(TransformResult.Status.STATUS_FAILED)
                    .setError("bad")
                    .setRetryable(true))
            .build();
    ProcessBatchResponseView view = ProcessBatchResponseView.parseFrom(response.toByteArray());
    assertThat(view.getResults(0).getOutputsCount()).isEqualTo(2);
    assertThat(Record.parseFrom(view.getResults(0).getOutputs(1))).isEqualTo(RECORD);
    assertThat(view.getResults(2).getRetryable()).isTrue();
    assertThat(ProcessBatchResponse.parseFrom(view.toByteArray())).isEqualTo(response);
  }
}

package io.conveyor.sidecar.wire;

import io.conveyor.etl.v1.ForwardBatchResponse;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchRequestView;
import io.conveyor.sidecar.wire.v1.ProcessBatchResponseView;
import io.conveyor.sidecar.wire.v1.PushRequestView;
import io.conveyor.sidecar.wire.v1.WriteBatchRequestView;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The public RPCs, re-typed with the sidecar's wire views. Same full method names and schema
 * descriptors as the generated ones (so reflection shows the public contract), different
 * marshallers (so records stay opaque bytes).
 */
public final class WireMethods {

  private WireMethods() {}

  public static final MethodDescriptor<PushRequestView, PushResponse> PUSH_RECORDS =
      SidecarDataPlaneGrpc.getPushRecordsMethod().toBuilder(
              new AliasingMarshaller<>(PushRequestView.getDefaultInstance()),
              ProtoUtils.marshaller(PushResponse.getDefaultInstance()))
          .build();

  public static final MethodDescriptor<ForwardBatchRequestView, ForwardBatchResponse>
      FORWARD_BATCH =
          SidecarDataPlaneGrpc.getForwardBatchMethod().toBuilder(
                  new AliasingMarshaller<>(ForwardBatchRequestView.getDefaultInstance()),
                  ProtoUtils.marshaller(ForwardBatchResponse.getDefaultInstance()))
              .build();

  public static final MethodDescriptor<ProcessBatchRequestView, ProcessBatchResponseView>
      PROCESS_BATCH =
          TransformServiceGrpc.getProcessBatchMethod().toBuilder(
                  ProtoUtils.marshaller(ProcessBatchRequestView.getDefaultInstance()),
                  new AliasingMarshaller<>(ProcessBatchResponseView.getDefaultInstance()))
              .build();

  public static final MethodDescriptor<WriteBatchRequestView, WriteBatchResponse> WRITE_BATCH =
      SinkServiceGrpc.getWriteBatchMethod().toBuilder(
              ProtoUtils.marshaller(WriteBatchRequestView.getDefaultInstance()),
              ProtoUtils.marshaller(WriteBatchResponse.getDefaultInstance()))
          .build();

  /** The data plane service descriptor with the view-typed methods and the public schema. */
  public static ServiceDescriptor dataPlaneService() {
    return ServiceDescriptor.newBuilder(SidecarDataPlaneGrpc.SERVICE_NAME)
        .setSchemaDescriptor(SidecarDataPlaneGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(PUSH_RECORDS)
        .addMethod(FORWARD_BATCH)
        .build();
  }
}

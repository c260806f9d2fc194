package io.conveyor.router.plan;

import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.registry.SidecarRecord;

/** Turns plans into the assignment messages of the wire contract. */
final class AssignmentMessages {

  private AssignmentMessages() {}

  static PipelineAssignment assignment(PipelinePlan plan, String sidecarId) {
    io.conveyor.router.pipeline.DeliveryOptions delivery = plan.pipeline().delivery();
    PipelineAssignment.Builder builder =
        PipelineAssignment.newBuilder()
            .setPipeline(plan.pipeline().name())
            .setGeneration(plan.pipeline().generation())
            .setDelivery(
                DeliveryOptions.newBuilder()
                    .setMaxBatchSize(delivery.maxBatchSize())
                    .setMaxRetries(delivery.maxRetries())
                    .setRetryBackoffMillis(delivery.retryBackoff().toMillis())
                    .setBatchTimeoutMillis(delivery.batchTimeout().toMillis()));
    for (StagePlan stage : plan.stages()) {
      StageAssignment.Builder stageBuilder =
          StageAssignment.newBuilder()
              .setIndex(stage.stage().index())
              .setName(stage.stage().name())
              .setRole(stage.stage().role().toProto())
              .setLocal(stage.hostedBy(sidecarId));
      for (SidecarRecord target : stage.targets()) {
        stageBuilder.addTargets(
            StageTarget.newBuilder()
                .setSidecarId(target.sidecarId())
                .setEndpoint(target.dataPlaneEndpoint())
                .setPodName(nullToEmpty(target.podName()))
                .setNamespace(target.namespace()));
      }
      builder.addStages(stageBuilder);
    }
    return builder.build();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}

package io.conveyor.router.plan;

import io.conveyor.router.pipeline.PipelineDefinition;
import java.util.List;

/** Where every stage of one pipeline runs. */
public record PipelinePlan(PipelineDefinition pipeline, List<StagePlan> stages) {

  public PipelinePlan {
    stages = List.copyOf(stages);
  }

  /** Stages that no sidecar can take traffic for; the pipeline cannot deliver while any is. */
  public List<StagePlan> unservedStages() {
    return stages.stream().filter(s -> s.replicas() == 0).toList();
  }

  /** True when every stage has a sidecar that takes traffic for it: the pipeline can deliver. */
  public boolean complete() {
    return stages.stream().allMatch(s -> s.replicas() > 0);
  }

  /** True when the sidecar runs at least one stage of this pipeline. */
  public boolean involves(String sidecarId) {
    return stages.stream().anyMatch(s -> s.hostedBy(sidecarId));
  }
}

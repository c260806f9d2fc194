package io.conveyor.router.grpc;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;

/**
 * Whether an assignment set lets a caller in that the set before it did not: a stage's {@code
 * allowed_callers} gained an identity, or a stage with callers is new to the sidecar.
 *
 * <p>The watch stream paces such a set ten times more tightly than others. The caller it admits got
 * this sidecar as a target in the same plan, and its own set reaches it at once (in its
 * registration reply, or unpaced because its targets changed after a quiet second); if the
 * receiver's grant waited out the pacing meanwhile, the caller's first batches would be refused
 * with {@code PERMISSION_DENIED} and the target ejected for a while: a restarted sidecar routed its
 * first record about half a second late that way. Narrowing (callers removed) keeps the full
 * pacing: the router has already moved the removed callers' targets elsewhere.
 */
final class CallerGrants {

  private CallerGrants() {}

  /** True when {@code next} allows a caller into a stage that {@code sent} did not. */
  static boolean widens(AssignmentSet sent, AssignmentSet next) {
    Map<String, PipelineAssignment> before = new HashMap<>();
    for (PipelineAssignment pipeline : sent.getPipelinesList()) {
      before.put(pipeline.getPipeline(), pipeline);
    }
    for (PipelineAssignment pipeline : next.getPipelinesList()) {
      PipelineAssignment earlier = before.get(pipeline.getPipeline());
      if (earlier == pipeline) {
        continue; // the planner reuses what did not change
      }
      for (StageAssignment stage : pipeline.getStagesList()) {
        if (stage.getAllowedCallersCount() > 0 && admitsMore(earlier, stage)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean admitsMore(PipelineAssignment earlier, StageAssignment stage) {
    StageAssignment was = earlier == null ? null : stageAt(earlier, stage.getIndex());
    if (was == null) {
      return true;
    }
    if (was == stage || was.getAllowedCallersList().equals(stage.getAllowedCallersList())) {
      return false;
    }
    return !new HashSet<>(was.getAllowedCallersList()).containsAll(stage.getAllowedCallersList());
  }

  private static StageAssignment stageAt(PipelineAssignment pipeline, int index) {
    // Stages are sent in index order from 0, so the index is the position; checked all the same.
    if (index >= 0 && index < pipeline.getStagesCount()) {
      StageAssignment stage = pipeline.getStages(index);
      if (stage.getIndex() == index) {
        return stage;
      }
    }
    for (StageAssignment stage : pipeline.getStagesList()) {
      if (stage.getIndex() == index) {
        return stage;
      }
    }
    return null;
  }
}

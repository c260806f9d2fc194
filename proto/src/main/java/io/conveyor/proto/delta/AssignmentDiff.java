package io.conveyor.proto.delta;

import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageDelta;
import io.conveyor.etl.v1.StageTarget;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The router's half of incremental assignments: the {@link AssignmentDelta} that turns one of a
 * sidecar's sets into a newer one, such that {@link AssignmentPatch#apply} gives back exactly the
 * newer set. A pure function of the two sets.
 *
 * <p>Cost: a pipeline or stage held as the same message instance in both sets is skipped without
 * looking inside (the router's planner carries unchanged messages over as the same instances); a
 * changed stage costs one walk over its targets, both sides being in sidecar id order.
 */
public final class AssignmentDiff {

  private AssignmentDiff() {}

  /**
   * The delta from {@code base} to {@code next}, or empty when {@code next} should be sent whole:
   * its pipelines are not in name order (a delta cannot reproduce another order), or the delta
   * would be no smaller than the set.
   */
  public static Optional<AssignmentDelta> between(AssignmentSet base, AssignmentSet next) {
    if (!AssignmentPatch.inNameOrder(next.getPipelinesList())) {
      return Optional.empty();
    }
    AssignmentDelta.Builder delta =
        AssignmentDelta.newBuilder()
            .setBaseVersion(base.getVersion())
            .setVersion(next.getVersion());
    Map<String, PipelineAssignment> before = new HashMap<>();
    for (PipelineAssignment pipeline : base.getPipelinesList()) {
      before.put(pipeline.getPipeline(), pipeline);
    }
    for (PipelineAssignment pipeline : next.getPipelinesList()) {
      PipelineAssignment previous = before.remove(pipeline.getPipeline());
      if (previous == pipeline) {
        continue;
      }
      if (previous == null
          || !sameShape(previous, pipeline)
          || !addStageChanges(previous, pipeline, delta)) {
        delta.addUpsertedPipelines(pipeline);
      }
    }
    for (PipelineAssignment gone : base.getPipelinesList()) {
      if (before.containsKey(gone.getPipeline())) {
        delta.addRemovedPipelines(gone.getPipeline());
      }
    }
    AssignmentDelta built = delta.build();
    return built.getSerializedSize() < next.getSerializedSize()
        ? Optional.of(built)
        : Optional.empty();
  }

  /**
   * Equal but for what a {@link StageDelta} carries (each stage's local flag, targets and allowed
   * callers). Compared on copies with those fields cleared, so that a field added to either message
   * later makes the pipeline go whole instead of being silently left out of the delta.
   */
  private static boolean sameShape(PipelineAssignment a, PipelineAssignment b) {
    if (a.getStagesCount() != b.getStagesCount()
        || !a.toBuilder().clearStages().build().equals(b.toBuilder().clearStages().build())) {
      return false;
    }
    for (int i = 0; i < a.getStagesCount(); i++) {
      if (!withoutDeltaFields(a.getStages(i)).equals(withoutDeltaFields(b.getStages(i)))) {
        return false;
      }
    }
    return true;
  }

  private static StageAssignment withoutDeltaFields(StageAssignment stage) {
    return stage.toBuilder().clearLocal().clearTargets().clearAllowedCallers().build();
  }

  /**
   * Adds a {@link StageDelta} per changed stage; returns false (adding nothing) when a changed
   * stage's targets or callers are not in canonical order on either side, so the pipeline must go
   * whole.
   */
  private static boolean addStageChanges(
      PipelineAssignment before, PipelineAssignment after, AssignmentDelta.Builder delta) {
    int mark = delta.getStageChangesCount();
    for (int i = 0; i < after.getStagesCount(); i++) {
      StageAssignment was = before.getStages(i);
      StageAssignment now = after.getStages(i);
      if (was == now) {
        continue;
      }
      StageDelta.Builder change =
          StageDelta.newBuilder()
              .setPipeline(after.getPipeline())
              .setIndex(now.getIndex())
              .setLocal(now.getLocal());
      if (!diffTargets(was.getTargetsList(), now.getTargetsList(), change)
          || !diffCallers(was.getAllowedCallersList(), now.getAllowedCallersList(), change)) {
        while (delta.getStageChangesCount() > mark) {
          delta.removeStageChanges(delta.getStageChangesCount() - 1);
        }
        return false;
      }
      if (was.getLocal() != now.getLocal()
          || change.getTargetsUpsertedCount() > 0
          || change.getTargetsRemovedCount() > 0
          || change.getAllowedCallersAddedCount() > 0
          || change.getAllowedCallersRemovedCount() > 0) {
        delta.addStageChanges(change);
      }
    }
    return true;
  }

  /** A merge of two lists in strict sidecar id order; false when either is not in that order. */
  private static boolean diffTargets(
      List<StageTarget> was, List<StageTarget> now, StageDelta.Builder change) {
    int i = 0;
    int j = 0;
    String lastWas = null;
    String lastNow = null;
    while (i < was.size() || j < now.size()) {
      StageTarget a = i < was.size() ? was.get(i) : null;
      StageTarget b = j < now.size() ? now.get(j) : null;
      int order = a == null ? 1 : b == null ? -1 : a.getSidecarId().compareTo(b.getSidecarId());
      if (order < 0) {
        if (lastWas != null && lastWas.compareTo(a.getSidecarId()) >= 0) {
          return false;
        }
        lastWas = a.getSidecarId();
        change.addTargetsRemoved(a.getSidecarId());
        i++;
      } else if (order > 0) {
        if (lastNow != null && lastNow.compareTo(b.getSidecarId()) >= 0) {
          return false;
        }
        lastNow = b.getSidecarId();
        change.addTargetsUpserted(b);
        j++;
      } else {
        if ((lastWas != null && lastWas.compareTo(a.getSidecarId()) >= 0)
            || (lastNow != null && lastNow.compareTo(b.getSidecarId()) >= 0)) {
          return false;
        }
        lastWas = a.getSidecarId();
        lastNow = b.getSidecarId();
        if (a != b && !a.equals(b)) {
          change.addTargetsUpserted(b);
        }
        i++;
        j++;
      }
    }
    return true;
  }

  /** As {@link #diffTargets}, for identities in strict string order. */
  private static boolean diffCallers(
      List<String> was, List<String> now, StageDelta.Builder change) {
    if (was.equals(now)) {
      return AssignmentPatch.strictlyOrdered(now);
    }
    int i = 0;
    int j = 0;
    if (!AssignmentPatch.strictlyOrdered(was) || !AssignmentPatch.strictlyOrdered(now)) {
      return false;
    }
    while (i < was.size() || j < now.size()) {
      int order = i == was.size() ? 1 : j == now.size() ? -1 : was.get(i).compareTo(now.get(j));
      if (order < 0) {
        change.addAllowedCallersRemoved(was.get(i++));
      } else if (order > 0) {
        change.addAllowedCallersAdded(now.get(j++));
      } else {
        i++;
        j++;
      }
    }
    return true;
  }
}

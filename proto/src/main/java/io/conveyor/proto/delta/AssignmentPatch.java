package io.conveyor.proto.delta;

import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageDelta;
import io.conveyor.etl.v1.StageTarget;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The sidecar's half of incremental assignments: applies an {@link AssignmentDelta} to the set it
 * was computed from. A pure function; the result is canonical (pipelines in name order, targets in
 * sidecar id order, callers sorted), which is the order the router's full sets come in, so the
 * result equals the set the router computed.
 *
 * <p>Strict: a delta that names a pipeline, stage, target or caller the base does not have (or adds
 * one it already has) does not fit its base, however its versions match, and is refused whole: the
 * sidecar then asks for a full set rather than guess.
 */
public final class AssignmentPatch {

  private AssignmentPatch() {}

  /** The delta does not apply to the set at hand; the holder needs a full set. */
  public static final class MismatchException extends IllegalArgumentException {
    public MismatchException(String message) {
      super(message);
    }
  }

  /**
   * Applies {@code delta} to {@code base}.
   *
   * @throws MismatchException when {@code delta} is not based on {@code base}'s version, or does
   *     not fit its content
   */
  public static AssignmentSet apply(AssignmentSet base, AssignmentDelta delta) {
    if (delta.getBaseVersion() != base.getVersion()) {
      throw new MismatchException(
          "delta from version "
              + delta.getBaseVersion()
              + " to "
              + delta.getVersion()
              + " does not apply to version "
              + base.getVersion());
    }
    if (delta.getVersion() <= base.getVersion()) {
      throw new MismatchException(
          "delta to version " + delta.getVersion() + " is not newer than its base");
    }
    Map<String, PipelineAssignment> pipelines = new TreeMap<>();
    for (PipelineAssignment pipeline : base.getPipelinesList()) {
      if (pipelines.put(pipeline.getPipeline(), pipeline) != null) {
        throw new MismatchException("base lists pipeline '" + pipeline.getPipeline() + "' twice");
      }
    }
    // A pipeline is named once in a delta: removed, upserted whole, or changed stage by stage.
    // The router never sends anything else; a delta that does is refused, not half applied.
    Set<String> named = new HashSet<>();
    for (String removed : delta.getRemovedPipelinesList()) {
      if (!named.add(removed)) {
        throw new MismatchException("delta names pipeline '" + removed + "' twice");
      }
      if (pipelines.remove(removed) == null) {
        throw new MismatchException("delta removes pipeline '" + removed + "', not in the base");
      }
    }
    for (PipelineAssignment upserted : delta.getUpsertedPipelinesList()) {
      if (!named.add(upserted.getPipeline())) {
        throw new MismatchException("delta names pipeline '" + upserted.getPipeline() + "' twice");
      }
      pipelines.put(upserted.getPipeline(), upserted);
    }
    for (StageDelta change : delta.getStageChangesList()) {
      if (named.contains(change.getPipeline())) {
        throw new MismatchException(
            "delta changes a stage of pipeline '"
                + change.getPipeline()
                + "', which it also removes or upserts");
      }
      PipelineAssignment pipeline = pipelines.get(change.getPipeline());
      if (pipeline == null) {
        throw new MismatchException(
            "delta changes a stage of pipeline '" + change.getPipeline() + "', not in the base");
      }
      pipelines.put(change.getPipeline(), withStageChange(pipeline, change));
    }
    return AssignmentSet.newBuilder()
        .setVersion(delta.getVersion())
        .addAllPipelines(pipelines.values())
        .build();
  }

  private static PipelineAssignment withStageChange(
      PipelineAssignment pipeline, StageDelta change) {
    for (int i = 0; i < pipeline.getStagesCount(); i++) {
      StageAssignment stage = pipeline.getStages(i);
      if (stage.getIndex() == change.getIndex()) {
        return pipeline.toBuilder().setStages(i, changed(pipeline, stage, change)).build();
      }
    }
    throw new MismatchException(
        "delta changes stage "
            + change.getIndex()
            + " of pipeline '"
            + change.getPipeline()
            + "', which has no such stage");
  }

  private static StageAssignment changed(
      PipelineAssignment pipeline, StageAssignment stage, StageDelta change) {
    String where = "stage " + stage.getIndex() + " of pipeline '" + pipeline.getPipeline() + "'";
    TreeMap<String, StageTarget> targets = new TreeMap<>();
    for (StageTarget target : stage.getTargetsList()) {
      if (targets.put(target.getSidecarId(), target) != null) {
        throw new MismatchException(where + " lists target " + target.getSidecarId() + " twice");
      }
    }
    for (String removed : change.getTargetsRemovedList()) {
      if (targets.remove(removed) == null) {
        throw new MismatchException("delta removes target " + removed + " not in " + where);
      }
    }
    for (StageTarget upserted : change.getTargetsUpsertedList()) {
      targets.put(upserted.getSidecarId(), upserted);
    }
    TreeSet<String> callers = new TreeSet<>(stage.getAllowedCallersList());
    for (String removed : change.getAllowedCallersRemovedList()) {
      if (!callers.remove(removed)) {
        throw new MismatchException("delta removes caller " + removed + " not allowed in " + where);
      }
    }
    for (String added : change.getAllowedCallersAddedList()) {
      if (!callers.add(added)) {
        throw new MismatchException("delta adds caller " + added + " already allowed in " + where);
      }
    }
    return stage.toBuilder()
        .setLocal(change.getLocal())
        .clearTargets()
        .addAllTargets(targets.values())
        .clearAllowedCallers()
        .addAllAllowedCallers(callers)
        .build();
  }

  /** True when the pipelines are in strict name order, the order a delta's result comes in. */
  static boolean inNameOrder(List<PipelineAssignment> pipelines) {
    List<String> names = new ArrayList<>(pipelines.size());
    pipelines.forEach(p -> names.add(p.getPipeline()));
    return strictlyOrdered(names);
  }

  static boolean strictlyOrdered(List<String> values) {
    for (int i = 1; i < values.size(); i++) {
      if (values.get(i - 1).compareTo(values.get(i)) >= 0) {
        return false;
      }
    }
    return true;
  }
}

package io.conveyor.operator.status;

import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.PipelineStatus;
import io.conveyor.operator.crd.StageStatus;
import io.conveyor.router.pipeline.StageRole;
import io.conveyor.router.plan.PipelinePlan;
import io.conveyor.router.plan.StagePlan;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Computes the status of a Pipeline from its validation and the router's plan for it. Pure: no
 * clock, no I/O.
 *
 * <p>Right after a fail-over the new leader's plan is thin until the sidecars have registered
 * again. During that warm-up a status that would report fewer replicas than the previous one is
 * held back (and looked at again when the warm-up ends); a status that reports more is written.
 */
public final class PipelineStatusCalculator {

  public static final String VALID = "Valid";
  public static final String STAGES_SERVED = "StagesServed";
  public static final String READY = "Ready";

  private PipelineStatusCalculator() {}

  /** What the router made of a valid pipeline. */
  public sealed interface RouterOutcome {
    /** The router plans with the pipeline; {@code plan} is its current plan. */
    record Planned(PipelinePlan plan) implements RouterOutcome {}

    /** The router refused the pipeline (e.g. its pipeline limit is reached). */
    record Refused(String message) implements RouterOutcome {}
  }

  /** The status to hold and when to look again without an event (end of the warm-up). */
  public record Result(PipelineStatus status, Optional<Duration> recheckAfter) {}

  /** Status of a pipeline whose spec is not usable. */
  public static Result invalid(
      List<String> problems, PipelineStatus previous, long generation, Instant now) {
    PipelineStatus next = new PipelineStatus();
    next.setObservedGeneration(generation);
    next.setPhase(PipelinePhase.Invalid);
    String message = String.join("; ", problems);
    ConditionSet conditions = new ConditionSet(conditionsOf(previous), generation, now);
    conditions.set(VALID, false, "InvalidSpec", message);
    conditions.set(
        STAGES_SERVED, ConditionSet.UNKNOWN, "InvalidSpec", "an invalid pipeline is not planned");
    conditions.set(READY, false, "InvalidSpec", message);
    next.setConditions(conditions.toList());
    return new Result(next, Optional.empty());
  }

  /**
   * Status of a valid pipeline.
   *
   * @param warmUpUntil set while the router has only just taken over as leader
   */
  public static Result valid(
      RouterOutcome outcome,
      PipelineStatus previous,
      long generation,
      Optional<Instant> warmUpUntil,
      Instant now) {
    PipelineStatus next = new PipelineStatus();
    next.setObservedGeneration(generation);
    ConditionSet conditions = new ConditionSet(conditionsOf(previous), generation, now);
    conditions.set(VALID, true, "Valid", "the spec is valid");

    if (outcome instanceof RouterOutcome.Refused refused) {
      next.setPhase(PipelinePhase.Pending);
      conditions.set(STAGES_SERVED, ConditionSet.UNKNOWN, "RouterRefused", refused.message());
      conditions.set(READY, false, "RouterRefused", refused.message());
      next.setConditions(conditions.toList());
      return new Result(next, Optional.empty());
    }

    PipelinePlan plan = ((RouterOutcome.Planned) outcome).plan();
    String namespace = plan.pipeline().namespace();
    List<StageStatus> stages = new ArrayList<>();
    List<String> unservedMain = new ArrayList<>();
    List<String> unservedDeadLetter = new ArrayList<>();
    List<String> draining = new ArrayList<>();
    for (StagePlan stage : plan.stages()) {
      int replicas = stage.replicas();
      int drainingCount = stage.hosts().size() - stage.targets().size();
      stages.add(
          new StageStatus(
              stage.stage().index(),
              stage.stage().name(),
              roleName(stage.stage().role()),
              replicas,
              drainingCount));
      String label = stage.stage().name() + " (" + roleName(stage.stage().role()) + ")";
      if (replicas == 0) {
        (stage.stage().role() == StageRole.DEAD_LETTER ? unservedDeadLetter : unservedMain)
            .add(label);
      }
      if (drainingCount > 0) {
        draining.add(stage.stage().name() + ": " + drainingCount);
      }
    }
    next.setStages(stages);
    next.setReplicaSummary(
        stages.stream()
            .map(s -> s.getName() + "=" + s.getReplicas())
            .collect(Collectors.joining(" ")));

    if (!unservedMain.isEmpty()) {
      next.setPhase(PipelinePhase.Pending);
      String message =
          "no ready sidecar in namespace " + namespace + " runs " + String.join(", ", unservedMain);
      conditions.set(STAGES_SERVED, false, "StageUnserved", message);
      conditions.set(READY, false, "StageUnserved", message);
    } else if (!unservedDeadLetter.isEmpty()) {
      next.setPhase(PipelinePhase.Degraded);
      String message =
          "records flow, but no ready sidecar in namespace "
              + namespace
              + " runs the dead-letter sink "
              + String.join(", ", unservedDeadLetter)
              + "; records that fail after their retries are lost";
      conditions.set(STAGES_SERVED, false, "DeadLetterSinkUnserved", message);
      conditions.set(READY, false, "DeadLetterSinkUnserved", message);
    } else if (!draining.isEmpty()) {
      next.setPhase(PipelinePhase.Degraded);
      conditions.set(STAGES_SERVED, true, "AllStagesServed", "every stage has a replica");
      conditions.set(
          READY,
          false,
          "ReplicasDraining",
          "replicas draining, taking no new batches: " + String.join(", ", draining));
    } else {
      next.setPhase(PipelinePhase.Running);
      conditions.set(STAGES_SERVED, true, "AllStagesServed", "every stage has a replica");
      conditions.set(
          READY, true, "Running", "all " + stages.size() + " stages have a replica taking traffic");
    }
    next.setConditions(conditions.toList());

    Optional<Instant> warmUp = warmUpUntil.filter(now::isBefore);
    if (warmUp.isPresent() && looksWorse(next, previous)) {
      Duration left = Duration.between(now, warmUp.get());
      return new Result(previous, Optional.of(left.isZero() ? Duration.ofSeconds(1) : left));
    }
    return new Result(next, Optional.empty());
  }

  /** True when {@code next} shows fewer replicas than {@code previous} for the same spec. */
  private static boolean looksWorse(PipelineStatus next, PipelineStatus previous) {
    if (previous == null
        || previous.getPhase() == null
        || previous.getPhase() == PipelinePhase.Invalid
        || !next.getObservedGeneration().equals(previous.getObservedGeneration())
        || previous.getStages().size() != next.getStages().size()) {
      return false;
    }
    for (int i = 0; i < next.getStages().size(); i++) {
      Integer before = previous.getStages().get(i).getReplicas();
      if (before != null && next.getStages().get(i).getReplicas() < before) {
        return true;
      }
    }
    return false;
  }

  private static List<io.fabric8.kubernetes.api.model.Condition> conditionsOf(PipelineStatus s) {
    return s == null ? List.of() : s.getConditions();
  }

  static String roleName(StageRole role) {
    return switch (role) {
      case SOURCE -> "source";
      case TRANSFORM -> "transform";
      case SINK -> "sink";
      case DEAD_LETTER -> "deadLetter";
    };
  }
}

package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.StageRole;
import java.util.List;
import java.util.OptionalInt;

/**
 * One pipeline as this sidecar routes it: every stage in order (source at index 0, then steps,
 * sink, and the dead-letter sink last when there is one), and the delivery options.
 */
public record PipelineRoute(
    String pipeline, long generation, List<StageRoute> stages, Delivery delivery) {

  public PipelineRoute {
    stages = List.copyOf(stages);
  }

  public StageRoute stage(int index) {
    return stages.get(index);
  }

  public boolean hasStage(int index) {
    return index >= 0 && index < stages.size();
  }

  public StageRoute source() {
    return stages.get(0);
  }

  /** The index records enter at from a source: the first step, or the sink when there is none. */
  public int entryIndex() {
    return 1;
  }

  /** The stage after {@code index}, if any; the dead-letter sink is never a next stage. */
  public OptionalInt next(int index) {
    int next = index + 1;
    if (next >= stages.size() || stages.get(next).role() == StageRole.STAGE_ROLE_DEAD_LETTER) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(next);
  }

  /** Index of the dead-letter sink, if the pipeline has one. */
  public OptionalInt deadLetterIndex() {
    StageRoute last = stages.get(stages.size() - 1);
    return last.role() == StageRole.STAGE_ROLE_DEAD_LETTER
        ? OptionalInt.of(last.index())
        : OptionalInt.empty();
  }
}

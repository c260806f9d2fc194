package io.conveyor.sidecar.dataplane;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The batches the executor is delivering, by pipeline, so that a revoke can fail a pipeline's
 * batches at once. Bounded by what the sidecar admits (credits and in-flight bytes).
 */
final class OpenBatches {

  // Each pipeline's set is changed and read only inside its map entry's compute, so an empty set
  // is removed without losing a batch added at the same moment.
  private final Map<String, Set<BatchRun>> byPipeline = new ConcurrentHashMap<>();

  void add(BatchRun batch) {
    byPipeline.compute(
        batch.pipeline(),
        (pipeline, batches) -> {
          Set<BatchRun> set = batches == null ? new HashSet<>() : batches;
          set.add(batch);
          return set;
        });
  }

  void remove(BatchRun batch) {
    byPipeline.computeIfPresent(
        batch.pipeline(),
        (pipeline, batches) -> {
          batches.remove(batch);
          return batches.isEmpty() ? null : batches;
        });
  }

  /** The batches of {@code pipeline} open now. */
  List<BatchRun> of(String pipeline) {
    List<BatchRun> open = new ArrayList<>();
    byPipeline.computeIfPresent(
        pipeline,
        (p, batches) -> {
          open.addAll(batches);
          return batches;
        });
    return open;
  }
}

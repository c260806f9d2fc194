package io.conveyor.router.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A validated pipeline, as the router plans with it. Identity is namespace and name: a pipeline
 * only uses services of pods in its own namespace.
 */
public record PipelineDefinition(
    String namespace,
    String name,
    long generation,
    String source,
    List<String> steps,
    String sink,
    DeliveryOptions delivery) {

  public PipelineDefinition {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(delivery, "delivery");
    steps = List.copyOf(steps);
  }

  /** {@code namespace/name}, the key pipelines are stored under. */
  public String key() {
    return key(namespace, name);
  }

  public static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  /**
   * Every stage in order: the source (index 0), the steps, the sink and, when set, the dead-letter
   * sink last.
   */
  public List<Stage> stages() {
    List<Stage> stages = new ArrayList<>(steps.size() + 3);
    stages.add(new Stage(0, source, StageRole.SOURCE));
    for (String step : steps) {
      stages.add(new Stage(stages.size(), step, StageRole.TRANSFORM));
    }
    stages.add(new Stage(stages.size(), sink, StageRole.SINK));
    delivery
        .deadLetterSink()
        .ifPresent(dlq -> stages.add(new Stage(stages.size(), dlq, StageRole.DEAD_LETTER)));
    return List.copyOf(stages);
  }

  /** Same pipeline apart from the generation. */
  public boolean sameSpec(PipelineDefinition other) {
    return source.equals(other.source)
        && steps.equals(other.steps)
        && sink.equals(other.sink)
        && delivery.equals(other.delivery);
  }

  public PipelineDefinition withGeneration(long newGeneration) {
    return new PipelineDefinition(namespace, name, newGeneration, source, steps, sink, delivery);
  }
}

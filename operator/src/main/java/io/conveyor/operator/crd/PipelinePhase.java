package io.conveyor.operator.crd;

/** {@code status.phase} of a Pipeline, spelled as in the API. */
public enum PipelinePhase {
  /** At least one stage of the main path (source, steps, sink) has no replica to run it. */
  Pending,
  /** Every stage has at least one replica that accepts traffic. */
  Running,
  /**
   * Records flow, but with less than the pipeline asked for: the dead-letter sink has no replica,
   * or some replicas of a stage are draining.
   */
  Degraded,
  /** The spec is not usable; the Valid condition says why, naming the field. */
  Invalid
}

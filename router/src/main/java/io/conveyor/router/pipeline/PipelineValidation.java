package io.conveyor.router.pipeline;

import java.util.List;

/** Outcome of validating a Pipeline: a definition to plan with, or the problems found. */
public sealed interface PipelineValidation {

  /** A usable pipeline. */
  record Valid(PipelineDefinition definition) implements PipelineValidation {}

  /**
   * An unusable pipeline. Each problem starts with the path of the field it concerns (e.g. {@code
   * spec.steps[1]}) and says what is accepted.
   */
  record Invalid(List<String> problems) implements PipelineValidation {
    public Invalid {
      problems = List.copyOf(problems);
    }

    /** All problems in one line, for a status condition or a log line. */
    public String message() {
      return String.join("; ", problems);
    }
  }
}

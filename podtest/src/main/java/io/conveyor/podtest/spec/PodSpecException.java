package io.conveyor.podtest.spec;

import java.util.List;

/**
 * The pod spec asks for something the test runner does not do the way a kubelet would: one line per
 * field, naming it, so that a run can never silently differ from a cluster's.
 */
public final class PodSpecException extends RuntimeException {

  private final List<String> problems;

  public PodSpecException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  public PodSpecException(String problem) {
    this(List.of(problem));
  }

  public List<String> problems() {
    return problems;
  }
}

package io.conveyor.webhook.mutation;

import java.util.List;

/**
 * The pod asked for something the injector cannot give it (an override annotation with an invalid
 * value, a port already taken); the admission is denied with every problem listed, so the user
 * fixes them in one go.
 */
public final class InjectionDeniedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public InjectionDeniedException(List<String> problems) {
    super(String.join("; ", problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a denial needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}

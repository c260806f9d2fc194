package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;

/** What the mutator decided for one pod. */
public sealed interface MutationOutcome {

  /**
   * The sidecar is to be added: {@code additions} is all that changes. The admission response's
   * patch is written from them; the mutated pod is made only when asked for.
   */
  record Injected(
      Pod original, SidecarAdditions additions, SidecarSpec spec, InjectionStatus status)
      implements MutationOutcome {

    /**
     * A new pod, the original with the additions (a deep copy per call); the original is untouched.
     * For tests and diagnostics: admission writes its patch from the additions alone.
     */
    public Pod pod() {
      return additions.applyTo(original);
    }
  }

  /**
   * The pod already had the sidecar, from an earlier injection, but its sidecar container lacked
   * credential mounts this injector gives (an injector before issue 12 gave none, and the API
   * server then mounts the pod's default API token into it): {@code pod} is a new object with them,
   * the original is untouched; {@code repairs} says what changed, one line each.
   */
  record Repaired(Pod pod, List<String> repairs) implements MutationOutcome {
    public Repaired {
      repairs = List.copyOf(repairs);
    }
  }

  /**
   * The pod is admitted unchanged.
   *
   * @param requested whether the pod itself asked for injection, so that the user should be told
   */
  record Skipped(SkipReason reason, boolean requested) implements MutationOutcome {}

  /** The pod is refused; every problem names the annotation or field at fault. */
  record Denied(List<String> problems) implements MutationOutcome {
    public Denied {
      problems = List.copyOf(problems);
    }

    public String message() {
      return "Conveyor sidecar injection refused: " + String.join("; ", problems);
    }
  }
}

package io.conveyor.webhook.mutation;

import java.util.Locale;
import java.util.Optional;

/** How the sidecar is added to a pod. */
public enum SidecarMode {
  /**
   * The first init container with {@code restartPolicy: Always} (Kubernetes 1.29+): it starts, and
   * passes its startup probe, before the other init containers and the app, and it does not keep a
   * Job's pod from completing.
   */
  NATIVE,
  /**
   * A regular container appended to {@code spec.containers}, for clusters without native sidecars.
   */
  CONTAINER;

  /** The value used in annotations, configuration and the status annotation. */
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code native} or {@code container} (exactly, lower case). */
  public static Optional<SidecarMode> parse(String value) {
    for (SidecarMode mode : values()) {
      if (mode.value().equals(value)) {
        return Optional.of(mode);
      }
    }
    return Optional.empty();
  }
}

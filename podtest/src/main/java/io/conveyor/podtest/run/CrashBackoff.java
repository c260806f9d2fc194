package io.conveyor.podtest.run;

import java.time.Duration;
import java.time.Instant;

/**
 * The kubelet's crash back-off for one container ({@code flowcontrol.Backoff} as the kubelet's
 * {@code doBackOff} uses it): a container that exits for the first time, or long after its last
 * exit, is restarted at once; one that exits again while it has a back-off waits that long, and the
 * back-off doubles per restart up to the ceiling. A back-off last updated more than twice the
 * ceiling before this exit has expired and starts over.
 */
final class CrashBackoff {

  private final Duration initial;
  private final Duration ceiling;
  private Duration current; // null: none yet
  private Instant updatedAt;

  CrashBackoff(Duration initial, Duration ceiling) {
    if (initial.isNegative() || ceiling.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "back-off must be 0 <= initial <= ceiling, got " + initial + " and " + ceiling);
    }
    this.initial = initial;
    this.ceiling = ceiling;
  }

  /** For a container that exited at {@code exitedAt}: how long to wait before starting it again. */
  Duration next(Instant exitedAt) {
    boolean expired =
        current == null
            || Duration.between(updatedAt, exitedAt).compareTo(ceiling.multipliedBy(2)) > 0;
    Duration wait = expired ? Duration.ZERO : current;
    current = expired ? initial : min(current.multipliedBy(2), ceiling);
    // The kubelet updates its entry when it restarts the container: once the wait is over.
    updatedAt = exitedAt.plus(wait);
    return wait;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}

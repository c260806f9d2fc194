package io.conveyor.operator.router;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The window after this replica became leader during which sidecars are still coming back: they
 * register again when their next heartbeat is refused, or when they reconnect. Until the router
 * serves, the window has not even begun.
 */
public final class RouterWarmUp {

  private final Clock clock;
  private final Duration length;
  private volatile Instant servingSince;

  public RouterWarmUp(Clock clock, Duration length) {
    this.clock = clock;
    this.length = length;
  }

  /** Called when the router starts serving. */
  public void servingFrom(Instant since) {
    this.servingSince = since;
  }

  /** When the warm-up ends, while it lasts; empty once it is over. */
  public Optional<Instant> until() {
    Instant now = clock.instant();
    Instant since = servingSince;
    Instant end = since == null ? now.plus(length) : since.plus(length);
    return now.isBefore(end) ? Optional.of(end) : Optional.empty();
  }
}

package io.conveyor.operator.status;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Times as Kubernetes stores them: RFC 3339 in UTC with whole seconds. Writing anything finer would
 * make the status read back differently from what was written, and every comparison afterwards
 * would see a change that is not there.
 */
public final class Timestamps {

  private Timestamps() {}

  public static String format(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** The instant of a stored timestamp; empty when absent or malformed. */
  public static Optional<Instant> parse(String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}

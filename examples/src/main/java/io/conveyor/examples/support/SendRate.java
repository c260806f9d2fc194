package io.conveyor.examples.support;

import java.util.Locale;

/**
 * How fast a driver sends: as fast as its window allows, or a fixed rate of records or of batches
 * per second (for latency measurements, where an open-loop load is what is wanted).
 */
public record SendRate(Unit unit, double perSecond) {

  public enum Unit {
    UNLIMITED,
    RECORDS,
    BATCHES
  }

  public SendRate {
    if (unit != Unit.UNLIMITED && !(perSecond > 0)) {
      throw new IllegalArgumentException("a rate must be positive, got " + perSecond);
    }
  }

  public static SendRate unlimited() {
    return new SendRate(Unit.UNLIMITED, 0);
  }

  public static SendRate recordsPerSecond(double value) {
    return new SendRate(Unit.RECORDS, value);
  }

  public static SendRate batchesPerSecond(double value) {
    return new SendRate(Unit.BATCHES, value);
  }

  public boolean limited() {
    return unit != Unit.UNLIMITED;
  }

  /** Time the rate allots to a batch of {@code records} records, in nanoseconds. */
  public long nanosFor(int records) {
    return switch (unit) {
      case UNLIMITED -> 0L;
      case RECORDS -> (long) (records * 1e9 / perSecond);
      case BATCHES -> (long) (1e9 / perSecond);
    };
  }

  @Override
  public String toString() {
    return switch (unit) {
      case UNLIMITED -> "unlimited";
      case RECORDS -> String.format(Locale.ROOT, "%.1f records/s", perSecond);
      case BATCHES -> String.format(Locale.ROOT, "%.1f batches/s", perSecond);
    };
  }
}

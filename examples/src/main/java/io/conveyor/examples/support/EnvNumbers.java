package io.conveyor.examples.support;

import io.conveyor.common.config.EnvReader;

/** Typed settings {@link EnvReader} does not parse itself. */
public final class EnvNumbers {

  private EnvNumbers() {}

  /** A fraction in [0, 1], e.g. {@code 0.05}; a malformed value is recorded as a problem. */
  public static double fraction(EnvReader reader, String name, double defaultValue) {
    return decimal(reader, name, defaultValue, 0.0, 1.0, "a fraction from 0 to 1, e.g. 0.05");
  }

  /** A decimal number in [min, max]; a malformed value is recorded as a problem. */
  public static double decimal(
      EnvReader reader, String name, double defaultValue, double min, double max, String accepted) {
    var raw = reader.raw(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    try {
      double value = Double.parseDouble(raw.get());
      if (Double.isNaN(value) || value < min || value > max) {
        throw new NumberFormatException("out of range");
      }
      return value;
    } catch (NumberFormatException e) {
      reader.problem(name + "='" + raw.get() + "' is not valid: expected " + accepted);
      return defaultValue;
    }
  }
}

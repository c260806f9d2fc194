package io.conveyor.examples.support;

import io.conveyor.common.config.EnvReader;
import java.time.Duration;

/**
 * Fault injection of a demo transform or sink, for tests of retries and backpressure. All decisions
 * are deterministic functions of the record id (see {@link FaultInjector}).
 *
 * @param failFraction fraction of records that fail retryably ({@code FAIL_FRACTION})
 * @param failAttempts how many times such a record fails before it succeeds ({@code FAIL_ATTEMPTS})
 * @param rejectFraction fraction of records rejected for good, i.e. failed non-retryably ({@code
 *     REJECT_FRACTION})
 * @param delay added to every batch call before it is answered ({@code DELAY_MS})
 */
public record FaultSettings(
    double failFraction, int failAttempts, double rejectFraction, Duration delay) {

  public static final FaultSettings NONE = new FaultSettings(0.0, 1, 0.0, Duration.ZERO);

  public FaultSettings {
    if (failFraction < 0 || failFraction > 1 || rejectFraction < 0 || rejectFraction > 1) {
      throw new IllegalArgumentException("fractions must be in [0, 1]");
    }
    if (failAttempts < 1) {
      throw new IllegalArgumentException("failAttempts must be at least 1, got " + failAttempts);
    }
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
  }

  public static FaultSettings read(EnvReader reader) {
    double fail = EnvNumbers.fraction(reader, "FAIL_FRACTION", 0.0);
    int attempts = reader.integer("FAIL_ATTEMPTS", 1, 1, 1_000);
    double reject = EnvNumbers.fraction(reader, "REJECT_FRACTION", 0.0);
    Duration delay = reader.millis("DELAY_MS", Duration.ZERO, 0, 600_000);
    return new FaultSettings(fail, attempts, reject, delay);
  }

  public FaultSettings withFailures(double fraction, int attempts) {
    return new FaultSettings(fraction, attempts, rejectFraction, delay);
  }

  public FaultSettings withRejects(double fraction) {
    return new FaultSettings(failFraction, failAttempts, fraction, delay);
  }

  public FaultSettings withDelay(Duration value) {
    return new FaultSettings(failFraction, failAttempts, rejectFraction, value);
  }
}

package io.conveyor.sidecar.identity;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The enroller's meters, every result registered at zero so that a dashboard sees the series before
 * the first enrolment.
 */
public final class EnrolmentMetrics {

  /** How one enrolment attempt ended. */
  public enum Result {
    ISSUED("issued"),
    UNAVAILABLE("unavailable"),
    UNAUTHENTICATED("unauthenticated"),
    PERMISSION_DENIED("permission_denied"),
    INVALID_ARGUMENT("invalid_argument"),
    CREDENTIAL_UNREADABLE("credential_unreadable"),
    FAILED("failed");

    private final String label;

    Result(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private final MeterRegistry registry;
  private final Map<Result, Counter> enrolments = new EnumMap<>(Result.class);

  public EnrolmentMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Result result : Result.values()) {
      enrolments.put(
          result,
          Counter.builder("conveyor_sidecar_enrolments")
              .description(
                  "Certificate enrolments and renewals with the Conveyor CA, by result"
                      + " (every attempt, retries included)")
              .tag("result", result.label())
              .register(registry));
    }
  }

  void attempted(Result result) {
    enrolments.get(result).increment();
  }

  /** Registers the expiry gauge; {@code secondsToExpiry} answers -1 while there is none. */
  public void expiryGauge(DoubleSupplier secondsToExpiry) {
    Gauge.builder(
            "conveyor_sidecar_certificate_expiry_seconds",
            secondsToExpiry,
            DoubleSupplier::getAsDouble)
        .description(
            "Seconds until this sidecar's workload certificate expires; -1 before the first"
                + " enrolment or with no enrolment credential")
        // The supplier is often a method reference no one else holds: keep it from being GC'd.
        .strongReference(true)
        .register(registry);
  }
}

package io.conveyor.webhook.admission;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The webhook's admission meters: requests and their latency by outcome, pods injected by mode,
 * repaired, skipped by reason, denied, and connections refused because every worker was busy.
 */
public final class AdmissionMetrics {

  private final MeterRegistry registry;
  private final Counter denied;
  private final Counter repaired;
  private final Counter rejectedConnections;

  public AdmissionMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.denied =
        Counter.builder("conveyor.webhook.denied")
            .description("Pods refused because of an invalid override or a conflict")
            .register(registry);
    this.repaired =
        Counter.builder("conveyor.webhook.repaired")
            .description(
                "Pods whose sidecar, from an earlier injection, was given its missing credential"
                    + " mounts")
            .register(registry);
    this.rejectedConnections =
        Counter.builder("conveyor.webhook.connections.rejected")
            .description("Connections closed unanswered because the worker queue was full")
            .register(registry);
  }

  /** Records one HTTP request: its outcome, whether it was a dry run, and how long it took. */
  public void request(String outcome, boolean dryRun, Duration elapsed) {
    Counter.builder("conveyor.webhook.requests")
        .description("Admission requests by outcome")
        .tag("outcome", outcome)
        .tag("dry_run", Boolean.toString(dryRun))
        .register(registry)
        .increment();
    Timer.builder("conveyor.webhook.request.duration")
        .description("Time to answer an admission request, from body read to response written")
        .tag("outcome", outcome)
        .publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry)
        .record(elapsed);
  }

  public void injected(String mode) {
    Counter.builder("conveyor.webhook.injected")
        .description("Pods that got the sidecar")
        .tag("mode", mode)
        .register(registry)
        .increment();
  }

  public void repaired() {
    repaired.increment();
  }

  public void skipped(String reason) {
    Counter.builder("conveyor.webhook.skipped")
        .description("Pods admitted without the sidecar, by reason")
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  public void denied() {
    denied.increment();
  }

  public void rejectedConnection() {
    rejectedConnections.increment();
  }
}

package io.conveyor.operator.metrics;

import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.SidecarPhase;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator's meters. Reconciles are timed and counted per controller and outcome through the
 * operator framework's {@link Metrics} hook; the reconcilers count the writes they make; phases are
 * tallied per kind.
 */
public final class OperatorMetrics implements Metrics {

  private final MeterRegistry registry;
  private final PhaseTally<SidecarPhase> sidecarPhases;
  private final PhaseTally<PipelinePhase> pipelinePhases;
  private final AtomicInteger leader = new AtomicInteger();
  private final Counter terms;
  private final Counter termFailures;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.sidecarPhases =
        new PhaseTally<>(
            registry,
            "conveyor.operator.sidecars",
            "ConveyorSidecar objects by phase",
            SidecarPhase.class);
    this.pipelinePhases =
        new PhaseTally<>(
            registry,
            "conveyor.operator.pipelines",
            "Pipeline objects by phase",
            PipelinePhase.class);
    Gauge.builder("conveyor.operator.leader", leader, AtomicInteger::get)
        .description("1 while this replica holds the leader Lease")
        .register(registry);
    this.terms =
        Counter.builder("conveyor.operator.leader.terms")
            .description("Times this replica became leader")
            .register(registry);
    this.termFailures =
        Counter.builder("conveyor.operator.leader.term.failures")
            .description("Leader terms that failed to start (leadership was given up)")
            .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public PhaseTally<SidecarPhase> sidecarPhases() {
    return sidecarPhases;
  }

  public PhaseTally<PipelinePhase> pipelinePhases() {
    return pipelinePhases;
  }

  public void leading(boolean leading) {
    leader.set(leading ? 1 : 0);
    if (leading) {
      terms.increment();
    }
  }

  public void termFailed() {
    termFailures.increment();
  }

  /** Counts a write to the API: {@code kind} of object, {@code operation} create/status/delete. */
  public void apiWrite(String kind, String operation) {
    Counter.builder("conveyor.operator.api.writes")
        .description("Writes this replica made to the Kubernetes API, by kind and operation")
        .tag("kind", kind)
        .tag("operation", operation)
        .register(registry)
        .increment();
  }

  @Override
  public <T> T timeControllerExecution(ControllerExecution<T> execution) throws Exception {
    Timer.Sample sample = Timer.start(registry);
    String outcome = "error";
    try {
      T result = execution.execute();
      outcome = "success";
      return result;
    } finally {
      sample.stop(
          Timer.builder("conveyor.operator.reconcile")
              .description("Reconciliations by controller and outcome")
              .tag("controller", execution.controllerName())
              .tag("outcome", outcome)
              .register(registry));
    }
  }
}

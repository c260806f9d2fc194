package io.conveyor.operator.reconciler;

import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.PipelineStatus;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.conveyor.operator.router.RouterEventBridge;
import io.conveyor.operator.router.RouterWarmUp;
import io.conveyor.operator.status.PipelineStatusCalculator;
import io.conveyor.operator.status.PipelineStatusCalculator.RouterOutcome;
import io.conveyor.operator.status.StatusComparison;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates each Pipeline, feeds the valid ones to the router (and takes invalid or deleted ones
 * out of it), and writes the status: phase, replicas per stage, conditions, observedGeneration.
 *
 * <p>The reconciler is called for deletions too, so the router drops a deleted pipeline without a
 * finalizer on the object. Router plan changes arrive through {@link RouterEventBridge} for the
 * pipelines whose replica counts changed.
 */
@ControllerConfiguration(name = PipelineReconciler.NAME, triggerReconcilerOnAllEvents = true)
public final class PipelineReconciler implements Reconciler<Pipeline> {

  public static final String NAME = "conveyor-pipelines";

  private static final Logger log = LoggerFactory.getLogger(PipelineReconciler.class);

  private final RouterEventBridge router;
  private final RouterWarmUp warmUp;
  private final OperatorMetrics metrics;
  private final Clock clock;

  public PipelineReconciler(
      RouterEventBridge router, RouterWarmUp warmUp, OperatorMetrics metrics, Clock clock) {
    this.router = router;
    this.warmUp = warmUp;
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, Pipeline>> prepareEventSources(EventSourceContext<Pipeline> context) {
    SimpleInboundEventSource<Pipeline> plans = new SimpleInboundEventSource<>("router-plan");
    router.onPipelineEvent(plans::propagateEvent);
    return List.of(plans);
  }

  @Override
  public UpdateControl<Pipeline> reconcile(Pipeline pipeline, Context<Pipeline> context) {
    RouterCore core = router.core();
    String key = pipeline.routerKey();
    if (context.isPrimaryResourceDeleted()) {
      core.removePipeline(key);
      metrics.pipelinePhases().remove(key);
      log.info("pipeline {} deleted; removed from the router", key);
      return UpdateControl.noUpdate();
    }

    long generation =
        pipeline.getMetadata().getGeneration() == null ? 1 : pipeline.getMetadata().getGeneration();
    PipelineValidation validation =
        PipelineValidator.validate(
            pipeline.getMetadata().getNamespace(),
            pipeline.getMetadata().getName(),
            generation,
            pipeline.getSpec());
    PipelineStatusCalculator.Result result;
    if (validation instanceof PipelineValidation.Invalid invalid) {
      core.removePipeline(key);
      log.warn("pipeline {} is invalid: {}", key, invalid.message());
      result =
          PipelineStatusCalculator.invalid(
              invalid.problems(), pipeline.getStatus(), generation, clock.instant());
    } else {
      RouterOutcome outcome;
      try {
        core.upsertPipeline(((PipelineValidation.Valid) validation).definition());
        outcome =
            core.plan()
                .pipeline(key)
                .<RouterOutcome>map(RouterOutcome.Planned::new)
                .orElseGet(() -> new RouterOutcome.Refused("the router has no plan for it"));
      } catch (IllegalStateException e) {
        outcome = new RouterOutcome.Refused(e.getMessage());
      }
      result =
          PipelineStatusCalculator.valid(
              outcome, pipeline.getStatus(), generation, warmUp.until(), clock.instant());
    }
    metrics.pipelinePhases().set(key, result.status().getPhase());

    UpdateControl<Pipeline> control;
    if (StatusComparison.same(result.status(), pipeline.getStatus())) {
      control = UpdateControl.noUpdate();
    } else {
      metrics.apiWrite("Pipeline", "status");
      control = UpdateControl.patchStatus(withStatus(pipeline, result.status()));
    }
    result.recheckAfter().ifPresent(control::rescheduleAfter);
    return control;
  }

  /** A fresh object holding only what identifies the pipeline, and the new status. */
  private static Pipeline withStatus(Pipeline pipeline, PipelineStatus status) {
    Pipeline fresh = new Pipeline();
    fresh.setMetadata(
        new ObjectMetaBuilder()
            .withName(pipeline.getMetadata().getName())
            .withNamespace(pipeline.getMetadata().getNamespace())
            .build());
    fresh.setStatus(status);
    return fresh;
  }
}

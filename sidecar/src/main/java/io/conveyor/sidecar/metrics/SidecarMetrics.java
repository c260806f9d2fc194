package io.conveyor.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The sidecar's meters. Per-stage meters are created once per pipeline and stage and cached. */
public final class SidecarMetrics {

  private final MeterRegistry registry;
  private final Map<String, StageMeters> stages = new ConcurrentHashMap<>();
  private final Map<String, Timer> pushLatency = new ConcurrentHashMap<>();

  public SidecarMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public StageMeters stage(String pipeline, String stage) {
    return stages.computeIfAbsent(
        pipeline + "\u0000" + stage, k -> new StageMeters(registry, pipeline, stage));
  }

  /** Time from a source's batch arriving to its acknowledgement, end to end. */
  public Timer pushLatency(String pipeline) {
    return pushLatency.computeIfAbsent(
        pipeline,
        p ->
            Timer.builder("conveyor_sidecar_push_ack_latency")
                .description("From a source batch arriving to its end-to-end acknowledgement")
                .tag("pipeline", p)
                .serviceLevelObjectives(
                    Duration.ofMillis(1),
                    Duration.ofMillis(5),
                    Duration.ofMillis(10),
                    Duration.ofMillis(50),
                    Duration.ofMillis(100),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(30))
                .register(registry));
  }

  public void backpressure() {
    registry.counter("conveyor_sidecar_backpressure_events").increment();
  }

  /** A call refused at the door: {@code reason} is draining, not_assigned, over_limit, ... */
  public void rejected(String reason) {
    registry.counter("conveyor_sidecar_rejected_calls", "reason", reason).increment();
  }

  public Counter discoveryRuns(String result) {
    return registry.counter("conveyor_sidecar_discovery_runs", "result", result);
  }

  public void registration(String result) {
    registry.counter("conveyor_sidecar_registrations", "result", result).increment();
  }

  public void heartbeat(String result) {
    registry.counter("conveyor_sidecar_heartbeats", "result", result).increment();
  }
}

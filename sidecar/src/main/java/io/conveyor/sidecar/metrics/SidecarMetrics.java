package io.conveyor.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sidecar's meters. Per-stage meters are created once per pipeline and stage and cached.
 *
 * <p>Every counter with a known set of label values is registered with all of them at construction,
 * so that a scrape shows 0 rather than nothing before the first event (a rate over an absent series
 * is empty, not 0). A value outside the known ones still counts; it appears when first used.
 */
public final class SidecarMetrics {

  /** Why the data plane refused a call at the door, as its callers name it. */
  public static final List<String> REJECTION_REASONS =
      List.of("draining", "starting", "not_assigned", "too_large", "over_limit");

  /** Results of a discovery run, a registration and a heartbeat, as their callers name them. */
  public static final List<String> DISCOVERY_RESULTS = List.of("ok", "error");

  public static final List<String> REGISTRATION_RESULTS = List.of("ok", "error");
  public static final List<String> HEARTBEAT_RESULTS = List.of("ok", "unknown_sidecar", "error");

  private final MeterRegistry registry;
  private final Map<String, StageMeters> stages = new ConcurrentHashMap<>();
  private final Map<String, Timer> pushLatency = new ConcurrentHashMap<>();
  private final Counter backpressure;
  private final Counter assignmentResyncs;

  public SidecarMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.backpressure =
        Counter.builder("conveyor_sidecar_backpressure_events")
            .description(
                "Times the sidecar's in-flight bytes crossed its limit: push streams withheld"
                    + " credits, or a forwarded batch was refused")
            .register(registry);
    this.assignmentResyncs =
        Counter.builder("conveyor_sidecar_assignment_resyncs")
            .description(
                "Assignment deltas the sidecar could not apply (not based on the set its watch stream"
                    + " last delivered),"
                    + " after which it asked the router for the full set")
            .register(registry);
    REJECTION_REASONS.forEach(this::rejectedCounter);
    DISCOVERY_RESULTS.forEach(this::discoveryRuns);
    REGISTRATION_RESULTS.forEach(this::registrationCounter);
    HEARTBEAT_RESULTS.forEach(this::heartbeatCounter);
  }

  public Counter assignmentResyncs() {
    return assignmentResyncs;
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
    backpressure.increment();
  }

  /** A call refused at the door: {@code reason} is one of {@link #REJECTION_REASONS}. */
  public void rejected(String reason) {
    rejectedCounter(reason).increment();
  }

  public Counter discoveryRuns(String result) {
    return Counter.builder("conveyor_sidecar_discovery_runs")
        .description("Scans of the pod's ports for its services, by result")
        .tag("result", result)
        .register(registry);
  }

  public void registration(String result) {
    registrationCounter(result).increment();
  }

  public void heartbeat(String result) {
    heartbeatCounter(result).increment();
  }

  private Counter rejectedCounter(String reason) {
    return Counter.builder("conveyor_sidecar_rejected_calls")
        .description(
            "Push streams, batches and forwarded batches the sidecar refused at the door, by"
                + " reason")
        .tag("reason", reason)
        .register(registry);
  }

  private Counter registrationCounter(String result) {
    return Counter.builder("conveyor_sidecar_registrations")
        .description("Attempts to register with the router, by result")
        .tag("result", result)
        .register(registry);
  }

  private Counter heartbeatCounter(String result) {
    return Counter.builder("conveyor_sidecar_heartbeats")
        .description("Heartbeats sent to the router, by result")
        .tag("result", result)
        .register(registry);
  }
}

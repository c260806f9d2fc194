package io.conveyor.sidecar.metrics;

import io.conveyor.etl.v1.RecordOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** The meters of one stage of one pipeline on this sidecar, looked up once and reused per batch. */
public final class StageMeters {

  private static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
    Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
    Duration.ofSeconds(10), Duration.ofSeconds(30)
  };

  private final Counter recordsIn;
  private final Counter batchesIn;
  private final Counter delivered;
  private final Counter filtered;
  private final Counter failed;
  private final Counter deadLettered;
  private final Counter retries;
  private final Counter callFailures;
  private final Counter stageWaits;
  private final Timer localLatency;
  private final Timer remoteLatency;

  StageMeters(MeterRegistry registry, String pipeline, String stage) {
    String[] tags = {"pipeline", pipeline, "stage", stage};
    recordsIn =
        counter(registry, "conveyor_sidecar_records_in", "Records that entered a stage", tags);
    batchesIn =
        counter(
            registry,
            "conveyor_sidecar_batches_in",
            "Batches (chunks of at most a stage's batch size) that entered a stage",
            tags);
    delivered = outcome(registry, tags, "delivered");
    filtered = outcome(registry, tags, "filtered");
    failed = outcome(registry, tags, "failed");
    deadLettered = outcome(registry, tags, "dead_lettered");
    retries =
        counter(
            registry,
            "conveyor_sidecar_retries",
            "Records a stage was called with again after a retryable failure",
            tags);
    callFailures =
        counter(
            registry,
            "conveyor_sidecar_stage_call_failures",
            "Calls of a stage's service or of another sidecar that failed as a whole",
            tags);
    stageWaits =
        counter(
            registry,
            "conveyor_sidecar_stage_waits",
            "Chunks of batches that found no sidecar running a stage and waited for one to appear"
                + " (until the batch deadline)",
            tags);
    localLatency = latency(registry, tags, "local");
    remoteLatency = latency(registry, tags, "remote");
  }

  private static Counter counter(
      MeterRegistry registry, String name, String description, String[] tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }

  private static Counter outcome(MeterRegistry registry, String[] tags, String outcome) {
    return Counter.builder("conveyor_sidecar_records_out")
        .description(
            "Records that left a stage on this sidecar, by outcome; for a stage forwarded to"
                + " another sidecar, as that sidecar answered")
        .tags(tags)
        .tag("outcome", outcome)
        .register(registry);
  }

  private static Timer latency(MeterRegistry registry, String[] tags, String via) {
    return Timer.builder("conveyor_sidecar_stage_latency")
        .description(
            "Time from a batch entering a stage to its outcome, through the rest of the pipeline")
        .tags(tags)
        .tag("via", via)
        .serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry);
  }

  public void batchIn(int records) {
    batchesIn.increment();
    recordsIn.increment(records);
  }

  public void outcome(RecordOutcome outcome, int count) {
    if (count == 0) {
      return;
    }
    switch (outcome) {
      case RECORD_OUTCOME_DELIVERED -> delivered.increment(count);
      case RECORD_OUTCOME_FILTERED -> filtered.increment(count);
      case RECORD_OUTCOME_DEAD_LETTERED -> deadLettered.increment(count);
      default -> failed.increment(count);
    }
  }

  public void retried(int records) {
    retries.increment(records);
  }

  public void callFailed() {
    callFailures.increment();
  }

  public void waitedForStage() {
    stageWaits.increment();
  }

  public void latency(boolean local, long nanos) {
    (local ? localLatency : remoteLatency).record(Duration.ofNanos(nanos));
  }
}

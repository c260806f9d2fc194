package io.conveyor.examples.support;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

/**
 * Counters and the batch latency histogram of a driver ({@code RecordPusher} or {@code
 * DirectPipelineDriver}). Written by the driver's loop thread, readable from any thread.
 *
 * <p>Record counters: {@code produced} (distinct records created), {@code sent} (record sends,
 * re-sends included), {@code resent} (sends after the first), and the final outcomes {@code
 * delivered}, {@code filtered}, {@code deadLettered}, {@code failed} (rejected, or out of attempts;
 * {@code exhausted} counts the latter). Every produced record ends in exactly one final outcome.
 */
public final class DeliveryStats {

  /** Latencies above this are recorded as this. */
  private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

  final LongAdder produced = new LongAdder();
  final LongAdder sent = new LongAdder();
  final LongAdder resent = new LongAdder();
  final LongAdder delivered = new LongAdder();
  final LongAdder filtered = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder exhausted = new LongAdder();
  final LongAdder unknownOutcomes = new LongAdder();
  private final LongAdder batchesSent = new LongAdder();
  private final LongAdder batchesAcked = new LongAdder();
  private final LongAdder batchesLost = new LongAdder();
  private final LongAdder reconnects = new LongAdder();
  private final LongAdder ackTimeouts = new LongAdder();
  private final LongAdder backpressureEvents = new LongAdder();
  private final LongAdder creditGrants = new LongAdder();
  private final LongAdder unknownAcks = new LongAdder();
  private final AtomicInteger inFlightBatches = new AtomicInteger();
  private final AtomicInteger maxInFlightBatches = new AtomicInteger();
  private final AtomicLong startedNanos = new AtomicLong();
  private final AtomicLong completedNanos = new AtomicLong();
  private final Histogram latencyMicros = new SynchronizedHistogram(MAX_LATENCY_MICROS, 3);

  public void started(long nanos) {
    startedNanos.compareAndSet(0, nanos);
  }

  public void completed(long nanos) {
    completedNanos.compareAndSet(0, nanos);
  }

  public void batchSent(int inFlightNow) {
    batchesSent.increment();
    inFlight(inFlightNow);
  }

  /** A batch got its answer after {@code latencyNanos}. */
  public void batchAnswered(long latencyNanos, int inFlightNow) {
    batchesAcked.increment();
    latencyMicros.recordValue(Math.min(MAX_LATENCY_MICROS, Math.max(0, latencyNanos / 1_000)));
    inFlight(inFlightNow);
  }

  /** In-flight batches were given up (stream broken, timed out) and their records re-queued. */
  public void batchesLost(int count) {
    batchesLost.add(count);
    inFlight(0);
  }

  public void inFlight(int now) {
    inFlightBatches.set(now);
    maxInFlightBatches.accumulateAndGet(now, Math::max);
  }

  public void reconnect() {
    reconnects.increment();
  }

  public void ackTimeout() {
    ackTimeouts.increment();
  }

  public void backpressure() {
    backpressureEvents.increment();
  }

  public void creditGrant() {
    creditGrants.increment();
  }

  public void unknownAck() {
    unknownAcks.increment();
  }

  /**
   * Registers the record counters as {@code <prefix>_records_total{outcome=...}} and the batch
   * counters as {@code <prefix>_batches_total{event=...}}.
   */
  public void bindTo(MeterRegistry registry, String prefix) {
    record(registry, prefix, "produced", produced);
    record(registry, prefix, "sent", sent);
    record(registry, prefix, "resent", resent);
    record(registry, prefix, "delivered", delivered);
    record(registry, prefix, "filtered", filtered);
    record(registry, prefix, "dead_lettered", deadLettered);
    record(registry, prefix, "failed", failed);
    batch(registry, prefix, "sent", batchesSent);
    batch(registry, prefix, "answered", batchesAcked);
    batch(registry, prefix, "lost", batchesLost);
    FunctionCounter.builder(prefix + "_reconnects_total", reconnects, LongAdder::sum)
        .register(registry);
    FunctionCounter.builder(
            prefix + "_backpressure_events_total", backpressureEvents, LongAdder::sum)
        .register(registry);
    Gauge.builder(prefix + "_in_flight_batches", inFlightBatches, AtomicInteger::get)
        .register(registry);
  }

  private static void record(
      MeterRegistry registry, String prefix, String outcome, LongAdder counter) {
    FunctionCounter.builder(prefix + "_records_total", counter, LongAdder::sum)
        .tag("outcome", outcome)
        .register(registry);
  }

  private static void batch(
      MeterRegistry registry, String prefix, String event, LongAdder counter) {
    FunctionCounter.builder(prefix + "_batches_total", counter, LongAdder::sum)
        .tag("event", event)
        .register(registry);
  }

  /** A copy of the send-to-answer latency of every batch so far, in microseconds. */
  public Histogram latencyMicros() {
    return latencyMicros.copy();
  }

  public Snapshot snapshot(long nowNanos) {
    long start = startedNanos.get();
    long end = completedNanos.get();
    long elapsed = start == 0 ? 0 : (end != 0 ? end : nowNanos) - start;
    Histogram latency = latencyMicros; // synchronized: read in place, no copy
    return new Snapshot(
        produced.sum(),
        sent.sum(),
        resent.sum(),
        delivered.sum(),
        filtered.sum(),
        deadLettered.sum(),
        failed.sum(),
        exhausted.sum(),
        unknownOutcomes.sum(),
        batchesSent.sum(),
        batchesAcked.sum(),
        batchesLost.sum(),
        reconnects.sum(),
        ackTimeouts.sum(),
        backpressureEvents.sum(),
        creditGrants.sum(),
        unknownAcks.sum(),
        inFlightBatches.get(),
        maxInFlightBatches.get(),
        TimeUnit.NANOSECONDS.toMillis(elapsed),
        end != 0,
        latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50) / 1000.0,
        latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99) / 1000.0,
        latency.getTotalCount() == 0 ? 0 : latency.getMaxValue() / 1000.0);
  }

  /** The counters at one moment. Latencies in milliseconds. */
  public record Snapshot(
      long produced,
      long sent,
      long resent,
      long delivered,
      long filtered,
      long deadLettered,
      long failed,
      long exhausted,
      long unknownOutcomes,
      long batchesSent,
      long batchesAcked,
      long batchesLost,
      long reconnects,
      long ackTimeouts,
      long backpressureEvents,
      long creditGrants,
      long unknownAcks,
      int inFlightBatches,
      int maxInFlightBatches,
      long elapsedMillis,
      boolean complete,
      double latencyP50Millis,
      double latencyP99Millis,
      double latencyMaxMillis) {

    /** Records with a final outcome. */
    public long finished() {
      return delivered + filtered + deadLettered + failed;
    }

    /** Records with a final outcome per second of the run so far. */
    public long recordsPerSecond() {
      return elapsedMillis == 0 ? 0 : finished() * 1000 / elapsedMillis;
    }

    /** One human-readable line, {@code key=value} pairs. */
    public String line() {
      return String.format(
          Locale.ROOT,
          "produced=%d sent=%d resent=%d delivered=%d filtered=%d dead_lettered=%d failed=%d"
              + " in_flight=%d reconnects=%d elapsed_ms=%d records_per_sec=%d"
              + " batch_p50_ms=%.3f batch_p99_ms=%.3f",
          produced,
          sent,
          resent,
          delivered,
          filtered,
          deadLettered,
          failed,
          inFlightBatches,
          reconnects,
          elapsedMillis,
          recordsPerSecond(),
          latencyP50Millis,
          latencyP99Millis);
    }

    public String toJson() {
      return String.format(
          Locale.ROOT,
          "{\"complete\":%b,\"produced\":%d,\"sent\":%d,\"resent\":%d,\"delivered\":%d,"
              + "\"filtered\":%d,\"dead_lettered\":%d,\"failed\":%d,\"exhausted\":%d,"
              + "\"unknown_outcomes\":%d,\"batches_sent\":%d,\"batches_acked\":%d,"
              + "\"batches_lost\":%d,\"reconnects\":%d,\"ack_timeouts\":%d,"
              + "\"backpressure_events\":%d,\"credit_grants\":%d,\"unknown_acks\":%d,"
              + "\"in_flight_batches\":%d,\"max_in_flight_batches\":%d,\"elapsed_ms\":%d,"
              + "\"records_per_sec\":%d,\"batch_p50_ms\":%.3f,\"batch_p99_ms\":%.3f,"
              + "\"batch_max_ms\":%.3f}",
          complete,
          produced,
          sent,
          resent,
          delivered,
          filtered,
          deadLettered,
          failed,
          exhausted,
          unknownOutcomes,
          batchesSent,
          batchesAcked,
          batchesLost,
          reconnects,
          ackTimeouts,
          backpressureEvents,
          creditGrants,
          unknownAcks,
          inFlightBatches,
          maxInFlightBatches,
          elapsedMillis,
          recordsPerSecond(),
          latencyP50Millis,
          latencyP99Millis,
          latencyMaxMillis);
    }
  }
}

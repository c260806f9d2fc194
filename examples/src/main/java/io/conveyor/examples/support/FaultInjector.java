package io.conveyor.examples.support;

import io.conveyor.etl.v1.RecordId;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decides, per record, whether a demo service fails it on purpose.
 *
 * <p>Selection is a pure function of (partition, sequence, salt), so every run fails the same
 * records. A record selected to fail retryably fails its first {@code failAttempts} attempts and
 * then succeeds: the injector counts attempts per record id while a record is failing, and forgets
 * the record once it passes. That count is bounded ({@link #MAX_TRACKED} records); beyond it new
 * selected records pass at once, trading exactness under extreme load for bounded memory.
 */
public final class FaultInjector {

  /** Most records whose attempts are tracked at once. */
  public static final int MAX_TRACKED = 200_000;

  /** What to do with one record. */
  public enum Verdict {
    PASS,
    FAIL_RETRYABLE,
    REJECT
  }

  private record Key(String sourceId, int partition, long sequence) {}

  private final FaultSettings settings;
  private final long salt;
  private final ConcurrentHashMap<Key, Integer> attempts = new ConcurrentHashMap<>();
  private final LongAdder injectedFailures = new LongAdder();
  private final LongAdder injectedRejects = new LongAdder();

  /**
   * @param salt makes the selections of different services independent (the transform and the sink
   *     of one pipeline should not pick the same records)
   */
  public FaultInjector(FaultSettings settings, long salt) {
    this.settings = settings;
    this.salt = salt;
  }

  public FaultSettings settings() {
    return settings;
  }

  public Verdict judge(RecordId id) {
    if (settings.rejectFraction() > 0
        && selected(
            id.getPartition(), id.getSequence(), salt ^ 0x5DEECE66DL, settings.rejectFraction())) {
      injectedRejects.increment();
      return Verdict.REJECT;
    }
    if (settings.failFraction() > 0
        && selected(id.getPartition(), id.getSequence(), salt, settings.failFraction())) {
      Key key = new Key(id.getSourceId(), id.getPartition(), id.getSequence());
      Integer seen = attempts.get(key);
      if (seen == null && attempts.size() >= MAX_TRACKED) {
        return Verdict.PASS;
      }
      int attempt = attempts.merge(key, 1, Integer::sum);
      if (attempt <= settings.failAttempts()) {
        injectedFailures.increment();
        return Verdict.FAIL_RETRYABLE;
      }
      attempts.remove(key);
    }
    return Verdict.PASS;
  }

  /**
   * Whether the record at (partition, sequence) belongs to the selected {@code fraction}: a hash of
   * the three inputs, read as a number in [0, 1), is below {@code fraction}.
   */
  public static boolean selected(int partition, long sequence, long salt, double fraction) {
    long h = mix(sequence * 0x9E3779B97F4A7C15L + partition + salt);
    double unit = (h >>> 11) * 0x1.0p-53;
    return unit < fraction;
  }

  /** Records failed retryably on purpose so far. */
  public long injectedFailures() {
    return injectedFailures.sum();
  }

  /** Records rejected on purpose so far. */
  public long injectedRejects() {
    return injectedRejects.sum();
  }

  /** Records currently failing (selected, not yet past their failing attempts). */
  public int tracked() {
    return attempts.size();
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

package io.conveyor.examples.sink;

import io.conveyor.examples.transform.DemoTransform;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which sequence numbers a sink has received, per (source id, partition): distinct and duplicate
 * counts, and the accounting against what a source sent ({@link #report}).
 *
 * <p>Each partition keeps a bitmap in pages of 65,536 sequences (8 KiB each), created on first use:
 * 10 million consecutive sequences cost 1.25 MiB, and a sparse or offset range costs only the pages
 * it touches. Partitions are locked independently; one add is a hash lookup (skipped while the page
 * does not change) and a bit test.
 */
public final class SequenceLedger {

  private static final int PAGE_SHIFT = 16;
  private static final int PAGE_BITS = 1 << PAGE_SHIFT;
  private static final int PAGE_WORDS = PAGE_BITS / 64;

  /** Identity of a partition: the records' {@code RecordId.source_id} and {@code partition}. */
  public record PartitionKey(String sourceId, int partition) {}

  /** Counts of one partition. Sequences span [minSequence, maxSequence]; both -1 when empty. */
  public record PartitionCounts(
      String sourceId,
      int partition,
      long distinct,
      long duplicates,
      long negative,
      long minSequence,
      long maxSequence) {}

  /**
   * The sink's accounting for a selection of partitions against {@code sent} records per partition
   * (sequences 0..sent-1), {@code filterPeriod} being DemoTransform's rule.
   *
   * @param partitions partitions selected
   * @param delivered distinct sequences received (in any range)
   * @param duplicates receptions of a sequence already received
   * @param expected sequences in [0, sent) the transform does not filter, per partition, summed
   * @param deliveredExpected of those, how many were received
   * @param lost {@code expected - deliveredExpected}: never received though they should have been
   * @param filteredReceived sequences in [0, sent) the rule filters that reached the sink anyway
   * @param beyondSent distinct sequences at or past {@code sent}
   */
  public record Report(
      int partitions,
      long delivered,
      long duplicates,
      long sent,
      int filterPeriod,
      long expected,
      long deliveredExpected,
      long lost,
      long filteredReceived,
      long beyondSent) {}

  private final ConcurrentHashMap<PartitionKey, Partition> partitions = new ConcurrentHashMap<>();

  /** The partition's ledger, created on first use; hold on to it while adding a batch. */
  public Partition partition(String sourceId, int partition) {
    return partitions.computeIfAbsent(new PartitionKey(sourceId, partition), Partition::new);
  }

  /** Notes one reception; true when the sequence was new. */
  public boolean add(String sourceId, int partition, long sequence) {
    return partition(sourceId, partition).add(sequence);
  }

  /** Forgets everything (between benchmark rounds). */
  public void reset() {
    partitions.clear();
  }

  public List<PartitionCounts> counts() {
    List<PartitionCounts> all = new ArrayList<>();
    for (Partition p : partitions.values()) {
      all.add(p.counts());
    }
    all.sort(
        Comparator.comparing(PartitionCounts::sourceId)
            .thenComparingInt(PartitionCounts::partition));
    return all;
  }

  /**
   * Accounting of the partitions matching {@code sourceId} and {@code partition} (all when empty)
   * against {@code sent} records per partition. When no partition matches, one empty partition is
   * assumed: everything expected is lost.
   */
  public Report report(
      long sent, int filterPeriod, Optional<String> sourceId, OptionalInt partition) {
    if (sent < 0 || filterPeriod < 0) {
      throw new IllegalArgumentException("sent and filterPeriod must not be negative");
    }
    long expectedPerPartition = sent - DemoTransform.filteredBelow(sent, filterPeriod);
    int matched = 0;
    long delivered = 0;
    long duplicates = 0;
    long deliveredExpected = 0;
    long filteredReceived = 0;
    long beyond = 0;
    for (Partition p : partitions.values()) {
      if (sourceId.isPresent() && !sourceId.get().equals(p.key.sourceId())) {
        continue;
      }
      if (partition.isPresent() && partition.getAsInt() != p.key.partition()) {
        continue;
      }
      matched++;
      Partition.Coverage c = p.coverage(sent, filterPeriod);
      delivered += c.distinct();
      duplicates += c.duplicates();
      deliveredExpected += c.inRange() - c.filteredInRange();
      filteredReceived += c.filteredInRange();
      beyond += c.distinct() - c.inRange();
    }
    long expected = expectedPerPartition * Math.max(1, matched);
    return new Report(
        matched,
        delivered,
        duplicates,
        sent,
        filterPeriod,
        expected,
        deliveredExpected,
        expected - deliveredExpected,
        filteredReceived,
        beyond);
  }

  /** The received sequences of one partition. Thread-safe; methods lock the partition. */
  public static final class Partition {
    private final PartitionKey key;
    private final Map<Long, long[]> pages = new HashMap<>();
    private long lastPageIndex = -1;
    private long[] lastPage;
    private long distinct;
    private long duplicates;
    private long negative;
    private long min = Long.MAX_VALUE;
    private long max = -1;

    private Partition(PartitionKey key) {
      this.key = key;
    }

    public PartitionKey key() {
      return key;
    }

    /** Notes one reception; true when the sequence was new. Negative sequences are only counted. */
    public synchronized boolean add(long sequence) {
      if (sequence < 0) {
        negative++;
        return false;
      }
      long pageIndex = sequence >>> PAGE_SHIFT;
      long[] page;
      if (pageIndex == lastPageIndex) {
        page = lastPage;
      } else {
        page = pages.computeIfAbsent(pageIndex, i -> new long[PAGE_WORDS]);
        lastPageIndex = pageIndex;
        lastPage = page;
      }
      int bit = (int) (sequence & (PAGE_BITS - 1));
      long mask = 1L << bit;
      int word = bit >>> 6;
      if ((page[word] & mask) != 0) {
        duplicates++;
        return false;
      }
      page[word] |= mask;
      distinct++;
      min = Math.min(min, sequence);
      max = Math.max(max, sequence);
      return true;
    }

    public synchronized boolean contains(long sequence) {
      if (sequence < 0) {
        return false;
      }
      long[] page = pages.get(sequence >>> PAGE_SHIFT);
      int bit = (int) (sequence & (PAGE_BITS - 1));
      return page != null && (page[bit >>> 6] & (1L << bit)) != 0;
    }

    public synchronized PartitionCounts counts() {
      return new PartitionCounts(
          key.sourceId(),
          key.partition(),
          distinct,
          duplicates,
          negative,
          distinct == 0 ? -1 : min,
          max);
    }

    record Coverage(long distinct, long duplicates, long inRange, long filteredInRange) {}

    /**
     * Distinct sequences in [0, sent), and how many of those the filter rule drops. Costs time in
     * proportion to the pages received, whatever {@code sent} is.
     */
    synchronized Coverage coverage(long sent, int filterPeriod) {
      long inRange = 0;
      long filteredInRange = 0;
      for (Map.Entry<Long, long[]> entry : pages.entrySet()) {
        long base = entry.getKey() << PAGE_SHIFT;
        if (base >= sent) {
          continue;
        }
        long[] page = entry.getValue();
        int limit = (int) Math.min(PAGE_BITS, sent - base); // bits of this page below `sent`
        int fullWords = limit >>> 6;
        for (int w = 0; w < fullWords; w++) {
          inRange += Long.bitCount(page[w]);
        }
        int rest = limit & 63;
        if (rest > 0) {
          inRange += Long.bitCount(page[fullWords] & ((1L << rest) - 1));
        }
        if (filterPeriod > 0) {
          // First filtered sequence at or after `base`: base + ((period - 1 - base) mod period).
          for (long b = Math.floorMod(filterPeriod - 1 - base, (long) filterPeriod);
              b < limit;
              b += filterPeriod) {
            int bit = (int) b;
            if ((page[bit >>> 6] & (1L << bit)) != 0) {
              filteredInRange++;
            }
          }
        }
      }
      return new Coverage(distinct, duplicates, inRange, filteredInRange);
    }
  }
}

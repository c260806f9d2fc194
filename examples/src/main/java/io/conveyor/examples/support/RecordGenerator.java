package io.conveyor.examples.support;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordId;
import java.time.Clock;
import java.time.Instant;
import java.util.SplittableRandom;

/**
 * Produces the demo's numbered records: id (source id, partition, sequence), type {@value
 * #RECORD_TYPE}, a payload of lowercase ASCII letters whose content depends only on the seed and
 * the sequence, and the event time from the given clock.
 *
 * <p>Payloads are slices of one pool of random letters generated from the seed, so producing a
 * record costs no random numbers and no copy (a slice shares the pool's bytes); the pusher and the
 * direct driver use the same generator and therefore send the same bytes.
 */
public final class RecordGenerator {

  public static final String RECORD_TYPE = "demo.v1";
  private static final int POOL_BYTES = 64 * 1024;

  private final String sourceId;
  private final int partition;
  private final int recordBytes;
  private final long seed;
  private final Clock clock;
  private final ByteString pool;

  public RecordGenerator(String sourceId, int partition, int recordBytes, long seed, Clock clock) {
    if (recordBytes < 0) {
      throw new IllegalArgumentException("recordBytes must not be negative, got " + recordBytes);
    }
    this.sourceId = sourceId;
    this.partition = partition;
    this.recordBytes = recordBytes;
    this.seed = seed;
    this.clock = clock;
    SplittableRandom random = new SplittableRandom(seed);
    byte[] letters = new byte[POOL_BYTES + recordBytes];
    for (int i = 0; i < letters.length; i++) {
      letters[i] = (byte) ('a' + random.nextInt(26));
    }
    this.pool = ByteString.copyFrom(letters);
  }

  public Record record(long sequence) {
    Instant now = clock.instant();
    return Record.newBuilder()
        .setId(
            RecordId.newBuilder()
                .setSourceId(sourceId)
                .setPartition(partition)
                .setSequence(sequence))
        .setRecordType(RECORD_TYPE)
        .setPayload(payload(sequence))
        .setEventTime(
            Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
        .build();
  }

  /** The payload of record {@code sequence}: always the same bytes for the same seed. */
  public ByteString payload(long sequence) {
    int offset = (int) Math.floorMod(sequence * 0x9E3779B97F4A7C15L ^ seed, (long) POOL_BYTES);
    return pool.substring(offset, offset + recordBytes);
  }

  public String sourceId() {
    return sourceId;
  }

  public int partition() {
    return partition;
  }

  public int recordBytes() {
    return recordBytes;
  }
}

package io.conveyor.examples.support;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.retry.Backoff;
import java.time.Duration;

/**
 * What a driver sends and how it retries: shared by {@code RecordPusher} (through the sidecar) and
 * {@code DirectPipelineDriver} (straight to the services), so that both send the same records the
 * same way.
 *
 * @param sourceId {@code RecordId.source_id} of every record ({@code SOURCE_ID})
 * @param partition {@code RecordId.partition} of every record ({@code PARTITION})
 * @param records how many records to produce, sequences 0..records-1 ({@code RECORDS})
 * @param batchSize records per batch ({@code BATCH_SIZE})
 * @param recordBytes payload size ({@code RECORD_BYTES})
 * @param seed payload content seed ({@code SEED})
 * @param rate send rate ({@code RATE} records/s or {@code BATCH_RATE} batches/s; unlimited by
 *     default)
 * @param maxAttempts sends per record before it is counted failed ({@code MAX_ATTEMPTS})
 * @param retryBackoff delay before a record that failed retryably is sent again ({@code
 *     RETRY_BACKOFF_MS} first, doubling up to {@code MAX_BACKOFF_MS}, 50% jitter)
 * @param retryQueueLimit records waiting for a re-send beyond which no new records are produced
 *     ({@code RETRY_QUEUE_LIMIT})
 */
public record WorkloadSettings(
    String sourceId,
    int partition,
    long records,
    int batchSize,
    int recordBytes,
    long seed,
    SendRate rate,
    int maxAttempts,
    Backoff retryBackoff,
    int retryQueueLimit) {

  public static final Backoff DEFAULT_RETRY_BACKOFF =
      new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), 2.0, 0.5);

  public WorkloadSettings {
    if (records < 0) {
      throw new IllegalArgumentException("records must not be negative");
    }
    if (batchSize < 1 || recordBytes < 0 || maxAttempts < 1 || retryQueueLimit < 1) {
      throw new IllegalArgumentException(
          "batchSize, maxAttempts and retryQueueLimit must be positive, recordBytes not negative");
    }
  }

  /** 10,000 records of 100 bytes in batches of 500 from {@code sourceId}, partition 0. */
  public static WorkloadSettings defaults(String sourceId) {
    return new WorkloadSettings(
        sourceId,
        0,
        10_000,
        500,
        100,
        42L,
        SendRate.unlimited(),
        100,
        DEFAULT_RETRY_BACKOFF,
        100_000);
  }

  public static WorkloadSettings read(EnvReader reader, String defaultSourceId) {
    String sourceId = reader.string("SOURCE_ID", defaultSourceId);
    int partition = reader.integer("PARTITION", 0, 0, Integer.MAX_VALUE);
    long records = reader.longValue("RECORDS", 10_000, 0, Long.MAX_VALUE / 2);
    int batchSize = reader.integer("BATCH_SIZE", 500, 1, 100_000);
    int recordBytes = (int) reader.bytes("RECORD_BYTES", 100, 0, 4L << 20);
    long seed = reader.longValue("SEED", 42, Long.MIN_VALUE, Long.MAX_VALUE);
    double recordRate =
        EnvNumbers.decimal(reader, "RATE", 0, 0, 1e9, "records per second, 0 for unlimited");
    double batchRate =
        EnvNumbers.decimal(reader, "BATCH_RATE", 0, 0, 1e7, "batches per second, 0 for unlimited");
    SendRate rate = SendRate.unlimited();
    if (recordRate > 0 && batchRate > 0) {
      reader.problem("RATE and BATCH_RATE are exclusive: set one of them");
    } else if (recordRate > 0) {
      rate = SendRate.recordsPerSecond(recordRate);
    } else if (batchRate > 0) {
      rate = SendRate.batchesPerSecond(batchRate);
    }
    int maxAttempts = reader.integer("MAX_ATTEMPTS", 100, 1, 1_000_000);
    Duration firstBackoff = reader.millis("RETRY_BACKOFF_MS", Duration.ofMillis(100), 1, 600_000);
    Duration maxBackoff = reader.millis("MAX_BACKOFF_MS", Duration.ofSeconds(5), 1, 3_600_000);
    if (maxBackoff.compareTo(firstBackoff) < 0) {
      reader.problem(
          "MAX_BACKOFF_MS ("
              + maxBackoff.toMillis()
              + ") must not be below RETRY_BACKOFF_MS ("
              + firstBackoff.toMillis()
              + ")");
      maxBackoff = firstBackoff;
    }
    int retryQueueLimit = reader.integer("RETRY_QUEUE_LIMIT", 100_000, 1, 100_000_000);
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        batchSize,
        recordBytes,
        seed,
        rate,
        maxAttempts,
        new Backoff(firstBackoff, maxBackoff, 2.0, 0.5),
        retryQueueLimit);
  }

  public WorkloadSettings withRecords(long value) {
    return new WorkloadSettings(
        sourceId,
        partition,
        value,
        batchSize,
        recordBytes,
        seed,
        rate,
        maxAttempts,
        retryBackoff,
        retryQueueLimit);
  }

  public WorkloadSettings withBatchSize(int value) {
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        value,
        recordBytes,
        seed,
        rate,
        maxAttempts,
        retryBackoff,
        retryQueueLimit);
  }

  public WorkloadSettings withRecordBytes(int value) {
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        batchSize,
        value,
        seed,
        rate,
        maxAttempts,
        retryBackoff,
        retryQueueLimit);
  }

  public WorkloadSettings withRate(SendRate value) {
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        batchSize,
        recordBytes,
        seed,
        value,
        maxAttempts,
        retryBackoff,
        retryQueueLimit);
  }

  public WorkloadSettings withRetries(int attempts, Backoff backoff) {
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        batchSize,
        recordBytes,
        seed,
        rate,
        attempts,
        backoff,
        retryQueueLimit);
  }

  public WorkloadSettings withRetryQueueLimit(int value) {
    return new WorkloadSettings(
        sourceId,
        partition,
        records,
        batchSize,
        recordBytes,
        seed,
        rate,
        maxAttempts,
        retryBackoff,
        value);
  }

  public WorkloadSettings withSource(String id, int partitionNumber) {
    return new WorkloadSettings(
        id,
        partitionNumber,
        records,
        batchSize,
        recordBytes,
        seed,
        rate,
        maxAttempts,
        retryBackoff,
        retryQueueLimit);
  }
}

package io.conveyor.examples.demo;

import io.conveyor.common.config.EnvReader;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of {@code ./conveyor demo}, from the environment.
 *
 * @param records records the source sends ({@code DEMO_RECORDS}, 200000)
 * @param batchSize records per batch ({@code DEMO_BATCH_SIZE}, 500)
 * @param recordBytes payload bytes per record ({@code DEMO_RECORD_BYTES}, 100)
 * @param timeout how long the run may take ({@code DEMO_TIMEOUT_SECS}, 300)
 */
public record DemoSettings(long records, int batchSize, int recordBytes, Duration timeout) {

  public static DemoSettings fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    long records = reader.longValue("DEMO_RECORDS", 200_000, 1, 1_000_000_000);
    int batchSize = reader.integer("DEMO_BATCH_SIZE", 500, 1, 10_000);
    int recordBytes = reader.integer("DEMO_RECORD_BYTES", 100, 0, 1 << 20);
    Duration timeout = reader.seconds("DEMO_TIMEOUT_SECS", Duration.ofSeconds(300), 10, 86_400);
    reader.validate();
    return new DemoSettings(records, batchSize, recordBytes, timeout);
  }
}

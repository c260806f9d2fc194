package io.conveyor.examples.bench;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.contract.SidecarProfile;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of {@code ./conveyor bench}, from the environment.
 *
 * @param rounds throughput rounds per path, alternating ({@code BENCH_ROUNDS}, 5)
 * @param records records per throughput run ({@code BENCH_RECORDS}, 500000)
 * @param batchSize records per batch ({@code BENCH_BATCH_SIZE}, 500)
 * @param recordBytes payload bytes per record ({@code BENCH_RECORD_BYTES}, 100)
 * @param window batches in flight, for both paths ({@code BENCH_WINDOW}, 8 = the sidecar's credits)
 * @param latencyRate batches per second in the latency runs ({@code BENCH_LATENCY_RATE}, 200)
 * @param latencyBatchSize records per batch in the latency runs ({@code BENCH_LATENCY_BATCH}, 50)
 * @param latencyDuration length of one latency run ({@code BENCH_LATENCY_SECS}, 10)
 * @param warmupTolerancePercent warm-up goes on until every path's mean records/s over its last
 *     three warm-up runs is within this of its mean over the three before ({@code
 *     BENCH_WARMUP_TOLERANCE_PERCENT}, 10)
 * @param warmupMaxRounds at most this many warm-up rounds ({@code BENCH_WARMUP_MAX_ROUNDS}, 15)
 * @param sidecarJvmFlags JVM flags after {@code sidecar/jvm.options} and the profile, which they
 *     override ({@code BENCH_SIDECAR_JVM_FLAGS}, space-separated, none)
 * @param sidecarProfile the sidecars' JIT profile ({@code BENCH_SIDECAR_PROFILE}, compact)
 */
public record BenchSettings(
    int rounds,
    long records,
    int batchSize,
    int recordBytes,
    int window,
    int latencyRate,
    int latencyBatchSize,
    Duration latencyDuration,
    int warmupTolerancePercent,
    int warmupMaxRounds,
    List<String> sidecarJvmFlags,
    SidecarProfile sidecarProfile) {

  /** The variable that picks the sidecars' profile, in every benchmark that runs a sidecar. */
  static final String SIDECAR_PROFILE = "BENCH_SIDECAR_PROFILE";

  public static BenchSettings fromEnv(Map<String, String> env) {
    EnvReader r = new EnvReader(env);
    BenchSettings settings =
        new BenchSettings(
            r.integer("BENCH_ROUNDS", 5, 1, 100),
            r.longValue("BENCH_RECORDS", 500_000, 1_000, 1_000_000_000),
            r.integer("BENCH_BATCH_SIZE", 500, 1, 10_000),
            r.integer("BENCH_RECORD_BYTES", 100, 0, 1 << 20),
            r.integer("BENCH_WINDOW", 8, 1, 1024),
            r.integer("BENCH_LATENCY_RATE", 200, 1, 100_000),
            r.integer("BENCH_LATENCY_BATCH", 50, 1, 10_000),
            r.seconds("BENCH_LATENCY_SECS", Duration.ofSeconds(10), 1, 3600),
            r.integer("BENCH_WARMUP_TOLERANCE_PERCENT", 10, 1, 100),
            r.integer("BENCH_WARMUP_MAX_ROUNDS", 15, 1, 100),
            r.string("BENCH_SIDECAR_JVM_FLAGS", "").isBlank()
                ? List.of()
                : List.of(r.string("BENCH_SIDECAR_JVM_FLAGS", "").trim().split("\\s+")),
            sidecarProfile(r));
    r.validate();
    return settings;
  }

  /** {@code BENCH_SIDECAR_PROFILE}: {@code compact} (the default) or {@code throughput}. */
  static SidecarProfile sidecarProfile(EnvReader r) {
    return r.enumValue(SIDECAR_PROFILE, SidecarProfile.COMPACT, SidecarProfile.class);
  }
}

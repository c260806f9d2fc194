package io.conveyor.examples.direct;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.WorkloadSettings;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the direct baseline runnable ({@code conveyor-examples.jar direct}), read once from
 * the environment.
 *
 * @param transform TRANSFORM_ENDPOINT ({@code localhost:50053})
 * @param sink SINK_ENDPOINT ({@code localhost:50054})
 * @param driver WINDOW (16), PIPELINE ({@code demo}), TRANSFORM_STAGE ({@code demo-transform}),
 *     SINK_STAGE ({@code demo-sink}), CALL_TIMEOUT_MS (30000) and the workload (SOURCE_ID defaults
 *     to {@code demo-source})
 * @param progressInterval PROGRESS_INTERVAL_MS (1000)
 * @param runTimeout RUN_TIMEOUT_SECS (600): the run is reported incomplete (exit 1) after this
 */
public record DirectConfig(
    HostPort transform,
    HostPort sink,
    DirectSettings driver,
    Duration progressInterval,
    Duration runTimeout) {

  public static DirectConfig fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    HostPort transform = reader.hostPort("TRANSFORM_ENDPOINT", "localhost:50053");
    HostPort sink = reader.hostPort("SINK_ENDPOINT", "localhost:50054");
    WorkloadSettings workload = WorkloadSettings.read(reader, "demo-source");
    int window = reader.integer("WINDOW", 16, 1, 100_000);
    String pipeline = reader.string("PIPELINE", "demo");
    String transformStage =
        reader.matching("TRANSFORM_STAGE", "demo-transform", Describes.NAME, "a DNS-1123 label");
    String sinkStage =
        reader.matching("SINK_STAGE", "demo-sink", Describes.NAME, "a DNS-1123 label");
    Duration callTimeout = reader.millis("CALL_TIMEOUT_MS", Duration.ofSeconds(30), 1, 3_600_000);
    Duration progress = reader.millis("PROGRESS_INTERVAL_MS", Duration.ofSeconds(1), 10, 3_600_000);
    Duration runTimeout =
        reader.seconds("RUN_TIMEOUT_SECS", Duration.ofMinutes(10), 1, 7 * 24 * 3600);
    reader.validate();
    return new DirectConfig(
        transform,
        sink,
        new DirectSettings(workload, window, pipeline, transformStage, sinkStage, callTimeout),
        progress,
        runTimeout);
  }
}

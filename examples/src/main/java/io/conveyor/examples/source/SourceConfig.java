package io.conveyor.examples.source;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.retry.Backoff;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.ServerSettings;
import io.conveyor.examples.support.WorkloadSettings;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the demo source runnable, read once from the environment.
 *
 * @param server PORT (50052), ADMIN_PORT (9101), BIND_ADDRESS
 * @param name Describe name (NAME, {@code demo-source})
 * @param sidecar the sidecar's data plane (SIDECAR_ENDPOINT, {@code localhost:9091})
 * @param pusher records, batching, retries and timeouts of the push stream
 * @param progressInterval how often a progress line is printed (PROGRESS_INTERVAL_MS, 1000)
 * @param pushTimeout how long the push may take before it is reported incomplete
 *     (PUSH_TIMEOUT_SECS, 600)
 * @param exitWhenDone exit once every record has an outcome (EXIT_WHEN_DONE, false: keep serving
 *     Describe until SIGTERM)
 */
public record SourceConfig(
    ServerSettings server,
    String name,
    HostPort sidecar,
    PusherSettings pusher,
    Duration progressInterval,
    Duration pushTimeout,
    boolean exitWhenDone) {

  public static SourceConfig fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    ServerSettings server = ServerSettings.read(reader, 50052, 9101);
    String name = Describes.name(reader, DemoSource.DEFAULT_NAME);
    HostPort sidecar = reader.hostPort("SIDECAR_ENDPOINT", "localhost:9091");
    String pipeline = reader.string("PIPELINE", "");
    WorkloadSettings workload = WorkloadSettings.read(reader, name);
    int maxInFlight = reader.integer("MAX_IN_FLIGHT", 256, 1, 100_000);
    Duration initTimeout = reader.millis("INIT_TIMEOUT_MS", Duration.ofSeconds(10), 1, 600_000);
    Duration ackTimeout = reader.millis("ACK_TIMEOUT_MS", Duration.ofSeconds(45), 1, 3_600_000);
    Duration reconnectFirst =
        reader.millis("RECONNECT_BACKOFF_MS", Duration.ofMillis(200), 1, 600_000);
    Duration reconnectMax =
        reader.millis("MAX_RECONNECT_BACKOFF_MS", Duration.ofSeconds(5), 1, 3_600_000);
    if (reconnectMax.compareTo(reconnectFirst) < 0) {
      reader.problem(
          "MAX_RECONNECT_BACKOFF_MS ("
              + reconnectMax.toMillis()
              + ") must not be below RECONNECT_BACKOFF_MS ("
              + reconnectFirst.toMillis()
              + ")");
      reconnectMax = reconnectFirst;
    }
    Duration progress = reader.millis("PROGRESS_INTERVAL_MS", Duration.ofSeconds(1), 10, 3_600_000);
    Duration pushTimeout =
        reader.seconds("PUSH_TIMEOUT_SECS", Duration.ofMinutes(10), 1, 7 * 24 * 3600);
    boolean exitWhenDone = reader.bool("EXIT_WHEN_DONE", false);
    reader.validate();
    PusherSettings pusher =
        new PusherSettings(
            workload,
            pipeline,
            name,
            PusherSettings.defaultInstance(),
            maxInFlight,
            initTimeout,
            ackTimeout,
            new Backoff(reconnectFirst, reconnectMax, 2.0, 0.5));
    return new SourceConfig(server, name, sidecar, pusher, progress, pushTimeout, exitWhenDone);
  }
}

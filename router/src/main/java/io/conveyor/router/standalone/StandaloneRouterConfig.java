package io.conveyor.router.standalone;

import io.conveyor.common.config.EnvReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of the standalone router, read once from the environment (and the command line: a single
 * argument, or {@code --pipelines <dir>}, names the pipelines folder).
 *
 * @param bindAddress address the gRPC and admin servers listen on
 * @param grpcPort port of SidecarCoordinator ({@code ROUTER_PORT})
 * @param metricsPort port of /metrics, /healthz, /readyz ({@code METRICS_PORT})
 * @param pipelinesDir folder of Pipeline YAML files ({@code PIPELINES_DIR})
 * @param rescanInterval how often the folder is re-read ({@code PIPELINES_RESCAN_SECS})
 * @param maxSidecars registrations beyond this are refused ({@code MAX_SIDECARS})
 * @param warmUp after the router starts, how long a sidecar coming back is not yet handed a set
 *     with a pipeline some stage of which has not come back ({@code ROUTER_WARMUP_SECS}; the
 *     default is two of the sidecars' default heartbeat periods, within which each re-registers)
 */
public record StandaloneRouterConfig(
    String bindAddress,
    int grpcPort,
    int metricsPort,
    Path pipelinesDir,
    Duration rescanInterval,
    int maxSidecars,
    Duration warmUp) {

  /** Two default heartbeat periods: a sidecar re-registers on its first heartbeat refused. */
  public static final Duration DEFAULT_WARM_UP = Duration.ofSeconds(10);

  public static StandaloneRouterConfig from(Map<String, String> env, List<String> args) {
    EnvReader reader = new EnvReader(env);
    String bind = reader.string("BIND_ADDRESS", "0.0.0.0");
    int grpcPort = reader.port("ROUTER_PORT", 50051);
    int metricsPort = reader.port("METRICS_PORT", 9095);
    String dir = reader.string("PIPELINES_DIR", "pipelines");
    Duration rescan = reader.seconds("PIPELINES_RESCAN_SECS", Duration.ofSeconds(5), 1, 3600);
    int maxSidecars = reader.integer("MAX_SIDECARS", 10_000, 1, 1_000_000);
    Duration warmUp = reader.seconds("ROUTER_WARMUP_SECS", DEFAULT_WARM_UP, 0, 600);
    if (args.size() == 1 && !args.get(0).startsWith("-")) {
      dir = args.get(0);
    } else if (args.size() == 2 && args.get(0).equals("--pipelines")) {
      dir = args.get(1);
    } else if (!args.isEmpty()) {
      reader.problem(
          "arguments "
              + args
              + " not understood: expected none, <pipelines-dir> or --pipelines <dir>");
    }
    if (grpcPort == metricsPort) {
      reader.problem("ROUTER_PORT and METRICS_PORT must differ, both are " + grpcPort);
    }
    reader.validate();
    return new StandaloneRouterConfig(
        bind, grpcPort, metricsPort, Path.of(dir), rescan, maxSidecars, warmUp);
  }
}

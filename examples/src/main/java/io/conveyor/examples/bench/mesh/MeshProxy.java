package io.conveyor.examples.bench.mesh;

import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One running HAProxy: its generated configuration written next to its log, started in the
 * foreground ({@code -db}, so it is our child and SIGTERM stops it), and ready once it listens.
 */
public final class MeshProxy implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  private final MeshProxyConfig config;
  private final ManagedProcess process;

  private MeshProxy(MeshProxyConfig config, ManagedProcess process) {
    this.config = config;
    this.process = process;
  }

  /**
   * Writes {@code <folder>/<name>.cfg}, starts HAProxy on it with its output in {@code
   * <folder>/<name>.log}, and waits until it listens.
   *
   * @throws IllegalStateException when it exits (a bad configuration: its own message is in the
   *     exception) or does not listen in time; the process is stopped first
   */
  public static MeshProxy start(Path haproxy, MeshProxyConfig config, Path folder)
      throws IOException {
    Files.createDirectories(folder);
    Path file = folder.resolve(config.name() + ".cfg");
    Files.writeString(file, config.render(), StandardCharsets.UTF_8);
    ManagedProcess process =
        ManagedProcess.start(
            config.name(),
            List.of(haproxy.toString(), "-db", "-f", file.toAbsolutePath().toString()),
            Map.of(),
            folder.resolve(config.name() + ".log"));
    try {
      LocalCluster.awaitPort(process, config.listenPort(), START_TIMEOUT);
    } catch (RuntimeException e) {
      process.stop(STOP_GRACE);
      throw e;
    }
    return new MeshProxy(config, process);
  }

  public MeshProxyConfig config() {
    return config;
  }

  public String name() {
    return config.name();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** CPU time (user + system, all threads) used so far, in milliseconds. */
  public long cpuMillis() {
    return process.cpuMillis();
  }

  public long rssBytes() {
    return process.rssBytes();
  }

  public String logTail(int lines) {
    return process.logTail(lines);
  }

  /** SIGTERM (HAProxy stops at once), SIGKILL after a short grace. */
  @Override
  public void close() {
    process.stop(STOP_GRACE);
  }
}

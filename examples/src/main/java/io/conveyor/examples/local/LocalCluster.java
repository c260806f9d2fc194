package io.conveyor.examples.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Conveyor on one machine: a standalone router and "pods" that are groups of processes sharing a
 * block of loopback ports — the stand-in for a pod's network namespace. Each pod's sidecar scans
 * only its own block, as a real sidecar scans its own pod's loopback.
 *
 * <p>Used by the local demo, the benchmark and the end-to-end tests; everything it starts is
 * stopped by {@link #close()}.
 */
public final class LocalCluster implements AutoCloseable {

  /**
   * Ports per pod: 10 for the pod's applications (the discovery range), sidecar gRPC (loopback),
   * sidecar admin, sidecar peer port.
   */
  static final int POD_PORTS = 13;

  public static final int APP_PORTS = 10;

  private final Launcher launcher;
  private final Path workDir;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<ManagedProcess> processes = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Pod> pods = new HashMap<>();
  private final int routerPort;
  private final int routerMetricsPort;
  private ManagedProcess router;
  private final boolean mutualTls;
  private volatile boolean classArchives = true;
  private volatile List<String> sidecarOptions = List.of();

  /**
   * Stops every process when this JVM is stopped before {@link #close()} (a {@code kill} of the
   * demo or a bench): only the JVM gets that signal, and its router, sidecars and services would
   * outlive it. Ctrl-C reaches the whole process group; a signal to one process does not.
   */
  private final Thread stopOnExit = new Thread(this::stopAll, "local-cluster-stop");

  /**
   * A cluster with mutual TLS on, as a user gets it by default, unless {@code SECURITY_MODE} is
   * {@code plaintext} in this process's environment.
   */
  public LocalCluster(Launcher launcher, Path workDir) {
    this(launcher, workDir, !"plaintext".equalsIgnoreCase(System.getenv("SECURITY_MODE")));
  }

  /**
   * @param mutualTls the router runs its CA and every hop is mutual TLS; the sidecars enrol with
   *     the bootstrap token the router keeps in its CA folder
   */
  public LocalCluster(Launcher launcher, Path workDir, boolean mutualTls) {
    this.mutualTls = mutualTls;
    this.launcher = launcher;
    this.workDir = workDir;
    PortBlock routerPorts = PortBlock.allocate(2);
    this.routerPort = routerPorts.port(0);
    this.routerMetricsPort = routerPorts.port(1);
    try {
      Files.createDirectories(workDir.resolve("logs"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  public Launcher launcher() {
    return launcher;
  }

  public Path workDir() {
    return workDir;
  }

  public String routerEndpoint() {
    return "127.0.0.1:" + routerPort;
  }

  public int routerMetricsPort() {
    return routerMetricsPort;
  }

  public boolean mutualTls() {
    return mutualTls;
  }

  /** Where the standalone router keeps its CA, its root and the bootstrap token. */
  public Path caDir() {
    return workDir.resolve("ca");
  }

  /**
   * The security settings a sidecar of this cluster gets: the trust bundle and bootstrap token from
   * the router's CA folder, or plaintext.
   */
  Map<String, String> sidecarSecurityEnv() {
    if (!mutualTls) {
      return Map.of("SECURITY_MODE", "plaintext");
    }
    return Map.of(
        "SECURITY_MODE",
        "mtls",
        "TRUST_BUNDLE_FILE",
        caDir().resolve("ca.crt").toAbsolutePath().toString(),
        "BOOTSTRAP_TOKEN_FILE",
        caDir().resolve("bootstrap-token").toAbsolutePath().toString());
  }

  /** Starts the standalone router on its ports with the pipelines of {@code pipelinesDir}. */
  public ManagedProcess startRouter(Path pipelinesDir) {
    return startRouter(pipelinesDir, Map.of());
  }

  /**
   * As {@link #startRouter(Path)}, with {@code extraEnv} added to (and winning over) the router's
   * environment, e.g. {@code CERTIFICATE_TTL_SECS} for certificates short enough to see rotated.
   */
  public ManagedProcess startRouter(Path pipelinesDir, Map<String, String> extraEnv) {
    Map<String, String> env = new HashMap<>();
    env.put("ROUTER_PORT", Integer.toString(routerPort));
    env.put("METRICS_PORT", Integer.toString(routerMetricsPort));
    env.put("BIND_ADDRESS", "127.0.0.1");
    env.put("PIPELINES_RESCAN_SECS", "1");
    env.put("SECURITY_MODE", mutualTls ? "mtls" : "plaintext");
    env.put("CA_DIR", caDir().toAbsolutePath().toString());
    env.putAll(extraEnv);
    router =
        start("router", Component.ROUTER, List.of(pipelinesDir.toAbsolutePath().toString()), env);
    awaitPort(router, routerPort, Duration.ofSeconds(30));
    return router;
  }

  public ManagedProcess router() {
    return router;
  }

  /**
   * Whether the processes started from now on use their class-data-sharing archives where the build
   * made them (the default); the start-up benchmark compares both in one run.
   */
  public void classArchives(boolean use) {
    this.classArchives = use;
  }

  /**
   * JVM options the sidecars started from now on take after their options files, overriding them
   * (none by default): the start-up and memory benchmarks' A/B of a flag.
   */
  public void sidecarOptions(List<String> options) {
    this.sidecarOptions = List.copyOf(options);
  }

  /** A new pod with its own block of ports. */
  public synchronized Pod pod(String name) {
    Pod pod = new Pod(this, name, PortBlock.allocate(POD_PORTS));
    pods.put(name, pod);
    return pod;
  }

  ManagedProcess start(
      String name, Component component, List<String> args, Map<String, String> env) {
    Path log = workDir.resolve("logs").resolve(name + ".log");
    Map<String, String> all = new HashMap<>(launcher.environment(component, env));
    all.putIfAbsent("LOG_LEVEL", "INFO");
    Launcher starting = classArchives ? launcher : launcher.withoutClassArchives();
    if (component == Component.SIDECAR && !sidecarOptions.isEmpty()) {
      starting = starting.withOverridingOptions(component, sidecarOptions);
    }
    ManagedProcess process =
        ManagedProcess.start(name, starting.command(component, args), all, log);
    processes.add(process);
    return process;
  }

  /** Waits until {@code port} accepts connections; fails with the process's log when it dies. */
  public static void awaitPort(ManagedProcess process, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            process.name() + " exited with " + process.exitCode() + ":\n" + process.logTail(30));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        sleep(100);
      }
    }
    throw new IllegalStateException(
        process.name()
            + " did not listen on "
            + port
            + " within "
            + timeout
            + ":\n"
            + process.logTail(30));
  }

  /** GET on a local admin endpoint; the status code and body, or -1 when nothing answered. */
  public HttpResult get(int port, String path) {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return new HttpResult(response.statusCode(), response.body());
    } catch (IOException e) {
      return new HttpResult(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new HttpResult(-1, "interrupted");
    }
  }

  public record HttpResult(int status, String body) {
    public boolean ok() {
      return status == 200;
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL after a grace period), newest first. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // Closed from another shutdown hook: ours runs too, and stopping twice is harmless.
    }
    stopAll();
  }

  private void stopAll() {
    List<ManagedProcess> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
    }
    Collections.reverse(all);
    all.parallelStream().forEach(p -> p.stop(Duration.ofSeconds(15)));
  }
}

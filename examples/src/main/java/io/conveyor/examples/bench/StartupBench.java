package io.conveyor.examples.bench;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code ./conveyor bench startup}: how long a sidecar takes from {@code exec} to useful, with the
 * router already up (see {@link StartupTopology}): the same sidecar started {@code BENCH_STARTS}
 * (10) times in a row, after {@code BENCH_STARTUP_WARMUP} (3) starts that are not counted.
 *
 * <p>Per start, from just before the exec, polled every 10 ms: {@code listen} — its local port
 * accepts connections; {@code ready} — its {@code /readyz} answers 200 (enrolled, and registered
 * with the router); {@code first_record} — a record pushed into it, as the pod's source would, is
 * acknowledged DELIVERED (it went through the transform, over mutual TLS to the other pod's sidecar
 * and into the sink); and the CPU it had used by ready, of which its JIT compiler threads'. When
 * the build made the sidecar's class archive, starts with and without it alternate, and both
 * medians are printed. The first {@code BENCH_STARTUP_WARMUP} (3) starts of each kind are not
 * counted.
 *
 * <p>With {@code BENCH_STARTUP_VARIANT_FLAGS} set, the two kinds alternated are instead the sidecar
 * as built and the same sidecar with those JVM flags after its options files, overriding them (both
 * with the class archive where there is one): an A/B of a flag, or of a code path behind a system
 * property, in one run. Not for the image's sidecar.
 *
 * <p>With {@code --rootfs=DIR --work=DIR -- ENTRYPOINT...} ({@code BENCH_IMAGE=1 ./conveyor bench
 * startup}, root needed) the sidecar is the image's: its entrypoint inside its unpacked root
 * filesystem (see {@link ImageRun}), on the image's JDK, with and without the class archive the
 * image ships.
 *
 * <p>{@code ./conveyor bench memory} is {@link MemoryBench}.
 */
public final class StartupBench {

  static final Duration POLL = Duration.ofMillis(10);
  static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  private StartupBench() {}

  static final String USAGE = "usage: StartupBench [--rootfs=DIR --work=DIR -- ENTRYPOINT...]";

  public static void main(String[] args) {
    int starts = Integer.parseInt(System.getenv().getOrDefault("BENCH_STARTS", "10"));
    int warmUp = Integer.parseInt(System.getenv().getOrDefault("BENCH_STARTUP_WARMUP", "3"));
    Path root = Launcher.findRepoRoot();
    BenchSidecar sidecar = BenchSidecar.fromArgs(args, USAGE, root);
    Optional<ImageRun> image = sidecar.image();
    Launcher launcher = sidecar.launcher();
    boolean archive = sidecar.archive();
    List<SidecarKind> kinds =
        SidecarKind.fromEnv(
            System.getenv(), "BENCH_STARTUP_VARIANT_FLAGS", archive, image.isPresent());
    boolean variant = kinds.stream().anyMatch(SidecarKind::isVariant);
    image.ifPresent(i -> System.out.println("startup: the sidecar of the image in " + i.rootfs()));
    int exit = 0;
    try (LocalCluster cluster =
            new LocalCluster(
                launcher,
                image.map(ImageRun::work).orElseGet(() -> root.resolve(".bench-startup")));
        StartupTopology topology =
            StartupTopology.start(cluster, root.resolve("examples/pipelines"))) {
      Map<SidecarKind, List<Start>> measured = new LinkedHashMap<>();
      kinds.forEach(kind -> measured.put(kind, new ArrayList<>()));
      for (int i = 0; i < warmUp + starts; i++) {
        // Alternating, the first kind first: a trend over the run (the page cache, the router
        // warming up) weighs on both alike.
        for (SidecarKind kind : kinds) {
          cluster.classArchives(kind.archive());
          cluster.sidecarOptions(kind.jvmFlags());
          Start start = measure(topology);
          if (i < warmUp) {
            // Not counted: the first starts also time the router's and the apps' JVMs warming up
            // to what they answer a sidecar with (enrolment, registration, reflection); in the runs
            // these were added for, ready fell by a third over the first five starts and then held.
            System.out.printf(
                Locale.ROOT,
                "startup: warm-up start %d %s ready_ms=%d (not counted)%n",
                i + 1,
                kind.label(),
                start.readyMs());
            continue;
          }
          measured.get(kind).add(start);
          System.out.printf(
              Locale.ROOT,
              "startup: start %d %s listen_ms=%d ready_ms=%d first_record_ms=%d"
                  + " cpu_ms_at_ready=%d jit_cpu_ms_at_ready=%d loadavg=%s%n",
              i - warmUp + 1,
              kind.label(),
              start.listenMs(),
              start.readyMs(),
              start.firstRecordMs(),
              start.readyCpuMs(),
              start.readyJitCpuMs(),
              loadAverage());
        }
      }
      measured.forEach((kind, list) -> summary(kind.label(), list));
      if (!archive) {
        System.out.println(
            image.isPresent()
                ? "startup: the image's entrypoint names no class archive"
                : "startup: no class archive (sidecar/target/conveyor-sidecar.jsa): ./conveyor"
                    + " build makes it");
      }
      List<Start> first = measured.get(kinds.get(0));
      List<Start> second = kinds.size() > 1 ? measured.get(kinds.get(1)) : List.of();
      String secondPrefix = kinds.get(kinds.size() - 1).key() + "_";
      System.out.printf(
          Locale.ROOT,
          "bench-startup: sidecar=%s profile=%s tls=%s starts=%d warmup_starts=%d%s ready_p50_ms=%d"
              + " first_record_p50_ms=%d"
              + " cpu_at_ready_p50_ms=%d%s loadavg=%s%n",
          image.isPresent() ? "image" : "jar",
          launcher.sidecarProfile().value(),
          cluster.mutualTls() ? "mtls" : "plaintext",
          starts,
          warmUp,
          variant ? " archive=" + (archive ? "yes" : "no") : "",
          median(first, Start::readyMs),
          median(first, Start::firstRecordMs),
          median(first, Start::readyCpuMs),
          second.isEmpty()
              ? ""
              : String.format(
                  Locale.ROOT,
                  " %sready_p50_ms=%d %sfirst_record_p50_ms=%d %scpu_at_ready_p50_ms=%d",
                  secondPrefix,
                  median(second, Start::readyMs),
                  secondPrefix,
                  median(second, Start::firstRecordMs),
                  secondPrefix,
                  median(second, Start::readyCpuMs)),
          loadAverage());
    } catch (Exception | AssertionError e) {
      System.err.println("bench: FAILED: " + e);
      exit = 1;
    }
    System.exit(exit);
  }

  /**
   * One start, in milliseconds from just before the exec; with the CPU the sidecar had used by
   * ready, and how much of that its JIT compiler threads used.
   */
  record Start(
      long listenMs, long readyMs, long firstRecordMs, long readyCpuMs, long readyJitCpuMs) {}

  /** Starts sidecar A, times it, and stops it again (an orderly drain). */
  static Start measure(StartupTopology topology) throws Exception {
    Pod pod = topology.podA();
    long exec = System.nanoTime();
    ManagedProcess sidecar = pod.launchSidecar(Map.of());
    try {
      // With the time, the CPU the sidecar had used by then: on a shared, loaded machine the wall
      // time swings with the neighbours, the CPU spent far less.
      CompletableFuture<long[]> ready =
          CompletableFuture.supplyAsync(
              () ->
                  new long[] {
                    pollUntil(sidecar, pod::sidecarReady),
                    sidecar.cpuMillis(),
                    ManagedProcess.threadCpuMillis(
                        sidecar.pid(), ManagedProcess.JIT_COMPILER_THREADS)
                  });
      long listening = pollUntil(sidecar, () -> accepts(pod.sidecarPort()));
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", pod.sidecarPort()).usePlaintext().build();
      long delivered;
      try {
        delivered =
            new FirstRecordProbe(channel, io.conveyor.examples.source.DemoSource.DEFAULT_NAME)
                .awaitDelivered(POLL, START_TIMEOUT, Duration.ofSeconds(5));
      } finally {
        GrpcServers.shutdown(channel, Duration.ofSeconds(1));
      }
      long[] readyAt = ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      return new Start(
          millis(exec, listening),
          millis(exec, readyAt[0]),
          millis(exec, delivered),
          readyAt[1],
          readyAt[2]);
    } catch (Exception e) {
      throw new IllegalStateException(
          "start of " + sidecar.name() + " failed: " + e + "\n" + sidecar.logTail(30), e);
    } finally {
      int code = sidecar.stop(Duration.ofSeconds(30));
      if (code != 0) {
        System.err.println("startup: " + sidecar.name() + " exited with " + code);
      }
    }
  }

  /** Polls {@code condition} every 10 ms; the nanoTime it first held. */
  static long pollUntil(ManagedProcess process, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (!process.isAlive()) {
        throw new IllegalStateException(process.name() + " exited with " + process.exitCode());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(process.name() + ": not within " + START_TIMEOUT);
      }
      StartupTopology.sleep(POLL.toMillis());
    }
    return System.nanoTime();
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 100);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The machine's load averages: the figures mean little when it is far above the cores. */
  static String loadAverage() {
    try {
      String[] fields = java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ");
      return fields[0] + "/" + fields[1] + "/" + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static long millis(long from, long to) {
    return TimeUnit.NANOSECONDS.toMillis(to - from);
  }

  private static void summary(String kind, List<Start> starts) {
    System.out.printf(
        Locale.ROOT,
        "startup: %s median listen_ms=%d ready_ms=%d first_record_ms=%d"
            + " cpu_ms_at_ready=%d jit_cpu_ms_at_ready=%d; ready_ms all=%s first_record_ms all=%s%n",
        kind,
        median(starts, Start::listenMs),
        median(starts, Start::readyMs),
        median(starts, Start::firstRecordMs),
        median(starts, Start::readyCpuMs),
        median(starts, Start::readyJitCpuMs),
        starts.stream().map(s -> Long.toString(s.readyMs())).collect(Collectors.joining(",")),
        starts.stream()
            .map(s -> Long.toString(s.firstRecordMs()))
            .collect(Collectors.joining(",")));
  }

  static long median(List<Start> starts, java.util.function.ToLongFunction<Start> figure) {
    long[] values = starts.stream().mapToLong(figure).sorted().toArray();
    int n = values.length;
    return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }
}

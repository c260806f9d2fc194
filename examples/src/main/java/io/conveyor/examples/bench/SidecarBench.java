package io.conveyor.examples.bench;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.direct.DirectPipelineDriver;
import io.conveyor.examples.direct.DirectSettings;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.conveyor.examples.source.DemoSource;
import io.conveyor.examples.source.PusherSettings;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.SendRate;
import io.conveyor.examples.support.ServiceHost;
import io.conveyor.examples.support.WorkloadSettings;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./conveyor bench}: the demo pipeline through the sidecars, against a direct baseline in
 * which the source calls the transform and the sink itself — same processes, records, batch size
 * and batches in flight, alternating in one run.
 *
 * <p>Topology: router; pod A = the transform process + sidecar A; pod B = the sink process +
 * sidecar B. The source is this JVM (its SourceService served on pod A's first port, so sidecar A
 * discovers it), driving either {@link RecordPusher} into sidecar A or {@link DirectPipelineDriver}
 * straight to the transform and the sink.
 *
 * <ul>
 *   <li>Throughput: {@code rounds} runs of each path, alternating which goes first; medians.
 *   <li>Latency: each path at a fixed, moderate batch rate; per-batch source→ack latency. A sidecar
 *       batch makes two more legs than a direct one (source→A and A→B in place of source→transform
 *       and source→sink, plus A→transform and B→sink), one per sidecar, so the added latency per
 *       sidecar hop is half the difference.
 *   <li>Memory: the resident set of both sidecar processes, sampled every 100 ms under load; the
 *       larger maximum.
 * </ul>
 */
public final class SidecarBench {

  private SidecarBench() {}

  public static void main(String[] args) throws Exception {
    BenchSettings settings;
    try {
      settings = BenchSettings.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    Path root = Launcher.findRepoRoot();
    Launcher launcher = Launcher.jars(root);
    if (!launcher.missing().isEmpty()) {
      System.err.println("bench: build first (./conveyor build); missing " + launcher.missing());
      System.exit(2);
      return;
    }
    // A run that timed out or did not deliver everything is a failed benchmark, not a figure:
    // say so and exit non-zero, whatever threads are still alive.
    int exit = 0;
    try (LocalCluster cluster = new LocalCluster(launcher, root.resolve(".bench"))) {
      new SidecarBench.Run(cluster, root.resolve("examples/pipelines"), settings).run();
    } catch (Exception | AssertionError e) {
      System.err.println("bench: FAILED: " + e);
      exit = 1;
    }
    System.exit(exit);
  }

  private static final class Run {
    private final LocalCluster cluster;
    private final Path pipelines;
    private final BenchSettings settings;
    private final AtomicLong maxRss = new AtomicLong();
    private final AtomicLong maxRssAnon = new AtomicLong();
    private Pod podA;
    private Pod podB;
    private ManagedProcess transform;
    private ManagedProcess sink;
    private ManagedChannel sidecarChannel;
    private ManagedChannel transformChannel;
    private ManagedChannel sinkChannel;
    private int runNumber;

    Run(LocalCluster cluster, Path pipelines, BenchSettings settings) {
      this.cluster = cluster;
      this.pipelines = pipelines;
      this.settings = settings;
    }

    void run() throws Exception {
      cluster.startRouter(pipelines);
      podB = cluster.pod("pod-b");
      sink = podB.startApp("sink", 0, 1, Map.of());
      podB.startSidecar(sidecarEnv("pod-b"));
      podA = cluster.pod("pod-a");
      transform = podA.startApp("transform", 1, 2, Map.of());
      ServiceHost source =
          ServiceHost.start(
              NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", podA.appPort(0))),
              new DemoSource(DemoSource.DEFAULT_NAME, settings.batchSize()));
      podA.startSidecar(sidecarEnv("pod-a"));
      sidecarChannel = channel(podA.sidecarPort());
      transformChannel = channel(podA.appPort(1));
      sinkChannel = channel(podB.appPort(0));
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      try {
        say("warm-up");
        throughput(Route.DIRECT, settings.records() / 2);
        throughput(Route.SIDECAR, settings.records() / 2);
        sampler.scheduleAtFixedRate(this::sampleRss, 0, 100, TimeUnit.MILLISECONDS);

        List<Double> direct = new ArrayList<>();
        List<Double> sidecar = new ArrayList<>();
        for (int round = 0; round < settings.rounds(); round++) {
          boolean directFirst = round % 2 == 0;
          for (Route path :
              directFirst
                  ? List.of(Route.DIRECT, Route.SIDECAR)
                  : List.of(Route.SIDECAR, Route.DIRECT)) {
            DeliveryStats.Snapshot s = throughput(path, settings.records());
            (path == Route.DIRECT ? direct : sidecar).add((double) s.recordsPerSecond());
            say(
                String.format(
                    Locale.ROOT,
                    "round %d %-7s %8d records/s  batch p50 %.2f ms p99 %.2f ms  %s",
                    round + 1,
                    path.label,
                    s.recordsPerSecond(),
                    s.latencyP50Millis(),
                    s.latencyP99Millis(),
                    cpuLine(settings.records())));
          }
        }

        List<Double> directP50 = new ArrayList<>();
        List<Double> directP99 = new ArrayList<>();
        List<Double> sidecarP50 = new ArrayList<>();
        List<Double> sidecarP99 = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
          for (Route path : List.of(Route.DIRECT, Route.SIDECAR)) {
            DeliveryStats.Snapshot s = latency(path);
            (path == Route.DIRECT ? directP50 : sidecarP50).add(s.latencyP50Millis());
            (path == Route.DIRECT ? directP99 : sidecarP99).add(s.latencyP99Millis());
            say(
                String.format(
                    Locale.ROOT,
                    "latency %-7s at %d batches/s of %d: p50 %.3f ms p99 %.3f ms",
                    path.label,
                    settings.latencyRate(),
                    settings.latencyBatchSize(),
                    s.latencyP50Millis(),
                    s.latencyP99Millis()));
          }
        }
        sampler.shutdownNow();
        double directRps = median(direct);
        double sidecarRps = median(sidecar);
        System.out.println(
            String.format(
                Locale.ROOT,
                "bench: tls=%s direct_rps=%.0f sidecar_rps=%.0f ratio=%.2f added_p50_ms=%.3f added_p99_ms=%.3f sidecar_rss_mib=%d"
                    + " sidecar_anon_mib=%d records=%d batch=%d record_bytes=%d window=%d rounds=%d",
                cluster.mutualTls()
                    ? "mtls/" + Optional.ofNullable(System.getenv("TLS_PROVIDER")).orElse("openssl")
                    : "plaintext",
                directRps,
                sidecarRps,
                sidecarRps / directRps,
                (median(sidecarP50) - median(directP50)) / 2,
                (median(sidecarP99) - median(directP99)) / 2,
                maxRss.get() >> 20,
                maxRssAnon.get() >> 20,
                settings.records(),
                settings.batchSize(),
                settings.recordBytes(),
                settings.window(),
                settings.rounds()));
      } finally {
        sampler.shutdownNow();
        source.close(Duration.ZERO);
        for (ManagedChannel c : List.of(sidecarChannel, transformChannel, sinkChannel)) {
          GrpcServers.shutdown(c, Duration.ofSeconds(1));
        }
      }
    }

    /**
     * The sidecar's settings. BENCH_SIDECAR_JAVA_OPTIONS adds JVM options to both sidecars (e.g.
     * native memory tracking); with BENCH_JFR_DIR set, each also records a JFR profile there; with
     * BENCH_PROFILE_DIR (and BENCH_ASYNC_PROFILER, which {@code ./conveyor bench} sets), an
     * async-profiler CPU profile.
     */
    private Map<String, String> sidecarEnv(String pod) {
      Map<String, String> env = new java.util.HashMap<>();
      env.put(SidecarEnvironment.PUSH_CREDITS.variable(), Integer.toString(settings.window()));
      StringBuilder options =
          new StringBuilder(System.getenv().getOrDefault("BENCH_SIDECAR_JAVA_OPTIONS", ""));
      String jfrDir = System.getenv("BENCH_JFR_DIR");
      if (jfrDir != null && !jfrDir.isBlank()) {
        options
            .append(" -XX:StartFlightRecording=settings=profile,dumponexit=true,filename=")
            .append(java.nio.file.Path.of(jfrDir, pod + ".jfr").toAbsolutePath());
      }
      String profileDir = System.getenv("BENCH_PROFILE_DIR");
      String profiler = System.getenv("BENCH_ASYNC_PROFILER");
      if (profileDir != null && !profileDir.isBlank() && profiler != null && !profiler.isBlank()) {
        // CPU samples by interval timer (perf counters are not available on every machine),
        // as collapsed stacks, one file per pod; ProfileSummary reads them.
        options
            .append(" -agentpath:")
            .append(profiler)
            .append("=start,event=itimer,interval=2ms,collapsed,file=")
            .append(java.nio.file.Path.of(profileDir, pod + ".collapsed").toAbsolutePath());
      }
      if (!options.toString().isBlank()) {
        env.put("JDK_JAVA_OPTIONS", options.toString().trim());
      }
      return env;
    }

    private enum Route {
      DIRECT("direct"),
      SIDECAR("sidecar");

      final String label;

      Route(String label) {
        this.label = label;
      }
    }

    private DeliveryStats.Snapshot throughput(Route path, long records)
        throws InterruptedException {
      WorkloadSettings workload =
          WorkloadSettings.defaults("bench-" + (++runNumber))
              .withRecords(records)
              .withBatchSize(settings.batchSize())
              .withRecordBytes(settings.recordBytes());
      return drive(path, workload);
    }

    private DeliveryStats.Snapshot latency(Route path) throws InterruptedException {
      long records =
          (long) settings.latencyRate()
              * settings.latencyBatchSize()
              * settings.latencyDuration().toSeconds();
      WorkloadSettings workload =
          WorkloadSettings.defaults("bench-" + (++runNumber))
              .withRecords(records)
              .withBatchSize(settings.latencyBatchSize())
              .withRecordBytes(settings.recordBytes())
              .withRate(SendRate.batchesPerSecond(settings.latencyRate()));
      return drive(path, workload);
    }

    /** CPU milliseconds of each process during the last run, by name. */
    private final Map<String, Long> lastCpu = new java.util.LinkedHashMap<>();

    private Map<String, Long> cpuNow() {
      Map<String, Long> cpu = new java.util.LinkedHashMap<>();
      cpu.put("source", ManagedProcess.cpuMillis(ProcessHandle.current().pid()));
      cpu.put("transform", transform.cpuMillis());
      cpu.put("sink", sink.cpuMillis());
      cpu.put("sidecar-a", podA.sidecar().cpuMillis());
      cpu.put("sidecar-b", podB.sidecar().cpuMillis());
      cpu.put("router", cluster.router().cpuMillis());
      return cpu;
    }

    private DeliveryStats.Snapshot drive(Route path, WorkloadSettings workload)
        throws InterruptedException {
      Map<String, Long> before = cpuNow();
      try {
        return driveOnce(path, workload);
      } finally {
        Map<String, Long> after = cpuNow();
        lastCpu.clear();
        after.forEach((name, ms) -> lastCpu.put(name, ms - before.get(name)));
      }
    }

    /** CPU ms per 100k records of the last run, per process. */
    private String cpuLine(long records) {
      StringBuilder line = new StringBuilder("cpu ms/100k records:");
      lastCpu.forEach(
          (name, ms) ->
              line.append(' ')
                  .append(name)
                  .append('=')
                  .append(ms * 100_000 / Math.max(1, records)));
      return line.toString();
    }

    private DeliveryStats.Snapshot driveOnce(Route path, WorkloadSettings workload)
        throws InterruptedException {
      Duration timeout = Duration.ofMinutes(10);
      if (path == Route.DIRECT) {
        try (DirectPipelineDriver driver =
            new DirectPipelineDriver(
                transformChannel,
                sinkChannel,
                DirectSettings.defaults(workload).withWindow(settings.window()))) {
          driver.start();
          check(driver.awaitCompletion(timeout), path, driver.snapshot());
          return driver.snapshot();
        }
      }
      PusherSettings pusherSettings =
          PusherSettings.defaults(DemoSource.DEFAULT_NAME, workload)
              .withPipeline("demo")
              .withMaxInFlightBatches(settings.window());
      try (RecordPusher pusher = new RecordPusher(sidecarChannel, pusherSettings)) {
        pusher.start();
        check(pusher.awaitCompletion(timeout), path, pusher.snapshot());
        return pusher.snapshot();
      }
    }

    private static void check(boolean complete, Route path, DeliveryStats.Snapshot snapshot) {
      if (!complete || snapshot.failed() > 0) {
        throw new IllegalStateException(
            path.label
                + " run "
                + (complete ? "failed records" : "timed out")
                + ": "
                + snapshot.line());
      }
    }

    private void sampleRss() {
      long rss = Math.max(podA.sidecar().rssBytes(), podB.sidecar().rssBytes());
      maxRss.accumulateAndGet(rss, Math::max);
      long anon = Math.max(podA.sidecar().rssAnonBytes(), podB.sidecar().rssAnonBytes());
      maxRssAnon.accumulateAndGet(anon, Math::max);
    }

    private static ManagedChannel channel(int port) {
      return NettyChannelBuilder.forAddress("127.0.0.1", port)
          .usePlaintext()
          .maxInboundMessageSize(64 << 20)
          .build();
    }

    private static double median(List<Double> values) {
      List<Double> sorted = new ArrayList<>(values);
      sorted.sort(Double::compare);
      int n = sorted.size();
      return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void say(String line) {
      System.out.println("bench: " + line);
    }
  }
}

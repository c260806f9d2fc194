package io.conveyor.examples.bench;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.bench.mesh.HaproxyBinary;
import io.conveyor.examples.bench.mesh.MeshPair;
import io.conveyor.examples.bench.mesh.MeshProxy;
import io.conveyor.examples.bench.mesh.MeshProxyConfig;
import io.conveyor.examples.direct.DirectPipelineDriver;
import io.conveyor.examples.direct.DirectSettings;
import io.conveyor.examples.local.Component;
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
import io.conveyor.identity.CertificateAuthority;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
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
 * <p>The third path, the mesh baseline, is the direct pipeline with a service mesh's proxies: the
 * source's call to the transform stays on pod A's loopback (a mesh does not intercept localhost),
 * its call to the sink crosses pods through pod A's HAProxy (outbound) and pod B's (inbound), which
 * speak mutual TLS to each other with certificates from the cluster's CA ({@link MeshPair}). It is
 * skipped, with a message, when {@code haproxy} is not installed.
 *
 * <ul>
 *   <li>Warm-up: rounds of each path until every path's throughput has settled ({@link
 *       SteadyState}); the bench line says whether it did ({@code warmup=N/steady}).
 *   <li>Throughput: {@code rounds} runs of each path, the order rotating each round; medians.
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
    Launcher launcher = Launcher.jars(root).withSidecarProfile(settings.sidecarProfile());
    // JVM flags after the profile and sidecar/jvm.options, which they override, e.g.
    // "-XX:-TieredCompilation" to measure C2 alone against the profiles. (JDK_JAVA_OPTIONS cannot
    // do that: the java launcher puts them before the command line.)
    if (!settings.sidecarJvmFlags().isEmpty()) {
      launcher = launcher.withOverridingOptions(Component.SIDECAR, settings.sidecarJvmFlags());
      System.out.println(
          "bench: sidecar JVM flags after sidecar/jvm.options: "
              + String.join(" ", settings.sidecarJvmFlags()));
    }
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
    private final AtomicLong maxProxyRss = new AtomicLong();
    private Pod podA;
    private Pod podB;
    private ManagedProcess transform;
    private ManagedProcess sink;
    private ManagedChannel sidecarChannel;
    private ManagedChannel transformChannel;
    private ManagedChannel sinkChannel;
    private Optional<MeshPair> mesh = Optional.empty();
    private ManagedChannel meshSinkChannel;
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
        mesh = startMesh();
        if (mesh.isPresent()) {
          meshSinkChannel = channel(mesh.get().outboundPort());
        }
        List<Route> paths =
            mesh.isPresent()
                ? List.of(Route.DIRECT, Route.SIDECAR, Route.MESH)
                : List.of(Route.DIRECT, Route.SIDECAR);
        SteadyState<String> warmUp = warmUp(paths);
        sampler.scheduleAtFixedRate(this::sampleRss, 0, 100, TimeUnit.MILLISECONDS);

        Map<Route, List<Double>> rps = perRoute();
        Map<Route, List<Double>> ownCpu = perRoute();
        List<Double> sidecarJitCpu = new ArrayList<>();
        for (int round = 0; round < settings.rounds(); round++) {
          for (Route path : rotated(paths, round)) {
            DeliveryStats.Snapshot s = throughput(path, settings.records());
            rps.get(path).add((double) s.recordsPerSecond());
            ownCpu.get(path).add(ownCpuPer100k(path, settings.records()));
            if (path == Route.SIDECAR) {
              sidecarJitCpu.add(sidecarJitCpuPer100k(settings.records()));
            }
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

        Map<Route, List<Double>> p50 = perRoute();
        Map<Route, List<Double>> p99 = perRoute();
        for (int round = 0; round < 2; round++) {
          for (Route path : rotated(paths, round)) {
            DeliveryStats.Snapshot s = latency(path);
            p50.get(path).add(s.latencyP50Millis());
            p99.get(path).add(s.latencyP99Millis());
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
        double directRps = median(rps.get(Route.DIRECT));
        double sidecarRps = median(rps.get(Route.SIDECAR));
        System.out.println(
            String.format(
                Locale.ROOT,
                "bench: tls=%s direct_rps=%.0f sidecar_rps=%.0f ratio=%.2f added_p50_ms=%.3f added_p99_ms=%.3f sidecar_rss_mib=%d"
                    + " sidecar_anon_mib=%d %s records=%d batch=%d record_bytes=%d window=%d rounds=%d"
                    + " warmup=%d/%s sidecar_profile=%s sidecar_jvm_flags=%s",
                cluster.mutualTls()
                    ? "mtls/" + Optional.ofNullable(System.getenv("TLS_PROVIDER")).orElse("openssl")
                    : "plaintext",
                directRps,
                sidecarRps,
                sidecarRps / directRps,
                (median(p50.get(Route.SIDECAR)) - median(p50.get(Route.DIRECT))) / 2,
                (median(p99.get(Route.SIDECAR)) - median(p99.get(Route.DIRECT))) / 2,
                maxRss.get() >> 20,
                maxRssAnon.get() >> 20,
                meshFields(sidecarRps, rps, p50, p99, ownCpu, median(sidecarJitCpu)),
                settings.records(),
                settings.batchSize(),
                settings.recordBytes(),
                settings.window(),
                settings.rounds(),
                warmUp.rounds(),
                warmUp.steady() ? "steady" : "unsteady",
                settings.sidecarProfile().value(),
                settings.sidecarJvmFlags().isEmpty()
                    ? "none"
                    : String.join(",", settings.sidecarJvmFlags())));
      } finally {
        sampler.shutdownNow();
        source.close(Duration.ZERO);
        for (ManagedChannel c : List.of(sidecarChannel, transformChannel, sinkChannel)) {
          GrpcServers.shutdown(c, Duration.ofSeconds(1));
        }
        if (meshSinkChannel != null) {
          GrpcServers.shutdown(meshSinkChannel, Duration.ofSeconds(1));
        }
        mesh.ifPresent(MeshPair::close);
      }
    }

    /**
     * Warm-up rounds, each path once for as many records as a measured run, until every path's
     * throughput has settled or the rounds run out (see {@link SteadyState}).
     */
    private SteadyState<String> warmUp(List<Route> paths) throws InterruptedException {
      SteadyState<String> warmUp =
          new SteadyState<>(settings.warmupTolerancePercent() / 100.0, settings.warmupMaxRounds());
      while (!warmUp.done()) {
        StringBuilder line =
            new StringBuilder(String.format(Locale.ROOT, "warm-up %d:", warmUp.rounds() + 1));
        for (Route path : rotated(paths, warmUp.rounds())) {
          DeliveryStats.Snapshot s = throughput(path, settings.records());
          warmUp.record(path.label, s.recordsPerSecond());
          line.append(String.format(Locale.ROOT, " %s %d/s", path.label, s.recordsPerSecond()));
        }
        warmUp.endRound();
        say(line + (warmUp.rounds() > 1 ? "  change: " + warmUp.changes() : ""));
      }
      say(
          warmUp.steady()
              ? String.format(
                  Locale.ROOT,
                  "warm-up steady after %d rounds (every path's mean of the last %d within %d%%"
                      + " of the %d before)",
                  warmUp.rounds(),
                  SteadyState.WINDOW,
                  settings.warmupTolerancePercent(),
                  SteadyState.WINDOW)
              : String.format(
                  Locale.ROOT,
                  "warm-up NOT steady after %d rounds (BENCH_WARMUP_MAX_ROUNDS): the figures below"
                      + " still compare warm-up states",
                  warmUp.rounds()));
      return warmUp;
    }

    /**
     * The mesh's two proxies in front of the sink, with mutual TLS between them when the cluster
     * runs it (certificates from the router's CA, the root the sidecars trust); empty, with the
     * reason said, when {@code haproxy} is not installed.
     */
    private Optional<MeshPair> startMesh() throws IOException {
      Optional<Path> haproxy = HaproxyBinary.find();
      if (haproxy.isEmpty()) {
        say(
            "mesh path skipped: haproxy is not on PATH (./conveyor bench installs it with apt-get"
                + " when run as root)");
        return Optional.empty();
      }
      Optional<CertificateAuthority> ca =
          cluster.mutualTls()
              ? Optional.of(
                  CertificateAuthority.load(cluster.caDir(), Clock.systemUTC(), new SecureRandom()))
              : Optional.empty();
      MeshPair pair =
          MeshPair.start(
              haproxy.get(),
              cluster.workDir().resolve("mesh"),
              ca,
              MeshProxyConfig.DEFAULT_THREADS,
              podB.appPort(0));
      say(
          String.format(
              Locale.ROOT,
              "mesh: %s, proxy A on %d (outbound) -> proxy B on %d (inbound, %s) -> sink on %d;"
                  + " nbthread %d each",
              haproxy.get(),
              pair.outboundPort(),
              pair.inboundPort(),
              pair.mutualTls() ? "mutual TLS 1.3" : "h2c",
              podB.appPort(0),
              MeshProxyConfig.DEFAULT_THREADS));
      return Optional.of(pair);
    }

    /** The bench line's mesh fields, or {@code mesh=skipped}. */
    private String meshFields(
        double sidecarRps,
        Map<Route, List<Double>> rps,
        Map<Route, List<Double>> p50,
        Map<Route, List<Double>> p99,
        Map<Route, List<Double>> ownCpu,
        double sidecarJitCpu) {
      String cpu =
          String.format(
              Locale.ROOT,
              "sidecars_cpu_ms_per_100k=%.0f sidecars_jit_cpu_ms_per_100k=%.0f",
              median(ownCpu.get(Route.SIDECAR)),
              sidecarJitCpu);
      if (mesh.isEmpty()) {
        return cpu + " mesh=skipped";
      }
      double meshRps = median(rps.get(Route.MESH));
      return String.format(
          Locale.ROOT,
          "%s proxies_cpu_ms_per_100k=%.0f mesh=%s mesh_rps=%.0f ratio_vs_mesh=%.2f"
              + " mesh_added_p50_ms=%.3f mesh_added_p99_ms=%.3f proxy_rss_mib=%d",
          cpu,
          median(ownCpu.get(Route.MESH)),
          mesh.get().mutualTls() ? "mtls/haproxy" : "plaintext/haproxy",
          meshRps,
          sidecarRps / meshRps,
          (median(p50.get(Route.MESH)) - median(p50.get(Route.DIRECT))) / 2,
          (median(p99.get(Route.MESH)) - median(p99.get(Route.DIRECT))) / 2,
          maxProxyRss.get() >> 20);
    }

    private static long jitCpuMillis(ManagedProcess process) {
      return ManagedProcess.threadCpuMillis(process.pid(), ManagedProcess.JIT_COMPILER_THREADS);
    }

    /** The sidecars' JIT compilers' CPU per 100k records in the last run. */
    private double sidecarJitCpuPer100k(long records) {
      return cpuPer100k(List.of("sidecar-a-jit", "sidecar-b-jit"), records);
    }

    /**
     * CPU per 100k records of what a path adds, in its last run: both sidecars for the sidecar path
     * (their JIT compilers included), both proxies for the mesh path, nothing for the direct one.
     */
    private double ownCpuPer100k(Route path, long records) {
      List<String> own =
          switch (path) {
            case DIRECT -> List.of();
            case SIDECAR -> List.of("sidecar-a", "sidecar-b");
            case MESH -> List.of("proxy-a", "proxy-b");
          };
      return cpuPer100k(own, records);
    }

    /** CPU per 100k records of {@code processes} together, in the last run. */
    private double cpuPer100k(List<String> processes, long records) {
      long ms = processes.stream().mapToLong(name -> lastCpu.getOrDefault(name, 0L)).sum();
      return ms * 100_000.0 / Math.max(1, records);
    }

    private static Map<Route, List<Double>> perRoute() {
      Map<Route, List<Double>> map = new EnumMap<>(Route.class);
      for (Route route : Route.values()) {
        map.put(route, new ArrayList<>());
      }
      return map;
    }

    /** Round {@code round}'s order: the paths rotated by one each round, so each goes first. */
    static List<Route> rotated(List<Route> paths, int round) {
      List<Route> order = new ArrayList<>(paths);
      java.util.Collections.rotate(order, -(round % paths.size()));
      return order;
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
      // The periods a user's sidecar has, not the local cluster's quicker ones (made for the demo
      // and the tests): with a scan every 2 s, discovery was 7% of sidecar A's CPU samples in a
      // run.
      for (SidecarEnvironment period :
          List.of(
              SidecarEnvironment.DISCOVERY_INTERVAL_SECS,
              SidecarEnvironment.HEARTBEAT_INTERVAL_SECS)) {
        env.put(period.variable(), period.defaultValue());
      }
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
      SIDECAR("sidecar"),
      /** The direct pipeline with the sink call through two HAProxy proxies, one per pod. */
      MESH("mesh");

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
      // Of which their JIT compilers': still compiling when the throughput looks steady?
      cpu.put("sidecar-a-jit", jitCpuMillis(podA.sidecar()));
      cpu.put("sidecar-b-jit", jitCpuMillis(podB.sidecar()));
      cpu.put("router", cluster.router().cpuMillis());
      mesh.ifPresent(
          pair -> {
            for (MeshProxy proxy : pair.proxies()) {
              cpu.put(proxy.name(), proxy.cpuMillis());
            }
          });
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
      if (path == Route.DIRECT || path == Route.MESH) {
        try (DirectPipelineDriver driver =
            new DirectPipelineDriver(
                transformChannel,
                // The mesh's transform call stays in pod A (loopback, not intercepted); its sink
                // call crosses to pod B through both proxies.
                path == Route.MESH ? meshSinkChannel : sinkChannel,
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
      mesh.ifPresent(
          pair ->
              pair.proxies().forEach(p -> maxProxyRss.accumulateAndGet(p.rssBytes(), Math::max)));
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

package io.conveyor.examples.bench;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.conveyor.examples.source.DemoSource;
import io.conveyor.examples.source.PusherSettings;
import io.conveyor.examples.source.RecordPusher;
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
import java.util.function.ToLongFunction;

/**
 * {@code ./conveyor bench memory}: what ten sidecars on one machine cost, idle and under a little
 * load, with and without the class archive, in one run.
 *
 * <p>Ten pods: eight with a demo source (served by this JVM on the pod's first port), one with the
 * transform, one with the sink, each with its sidecar; the router with the demo pipeline. Per phase
 * the ten sidecars start together; once all are ready and have idled a few seconds, each one's RSS,
 * anonymous memory and PSS ({@link ProcessMemorySample}) is sampled; then every source pushes at a
 * fixed rate through its sidecar, the transform's and the sink's, sampled every 250 ms (each
 * sidecar's largest figures kept). Printed: every sidecar, and the medians over the ten.
 *
 * <p>With {@code BENCH_MEMORY_VARIANT_FLAGS} the two phases are the sidecar as built and the same
 * sidecar with those JVM flags (see {@link SidecarKind}); not for the image's sidecar.
 */
public final class MemoryBench {

  private static final int SOURCE_PODS = 8;
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  static final String USAGE = "usage: MemoryBench [--rootfs=DIR --work=DIR -- ENTRYPOINT...]";

  private MemoryBench() {}

  public static void main(String[] args) {
    Map<String, String> env = System.getenv();
    int rate = Integer.parseInt(env.getOrDefault("BENCH_MEMORY_RATE", "5"));
    int loadSeconds = Integer.parseInt(env.getOrDefault("BENCH_MEMORY_SECS", "20"));
    Path root = Launcher.findRepoRoot();
    BenchSidecar sidecar = BenchSidecar.fromArgs(args, USAGE, root);
    Optional<ImageRun> image = sidecar.image();
    Launcher launcher = sidecar.launcher();
    boolean archive = sidecar.archive();
    List<SidecarKind> kinds =
        SidecarKind.fromEnv(env, "BENCH_MEMORY_VARIANT_FLAGS", archive, image.isPresent());
    image.ifPresent(i -> System.out.println("memory: the sidecars of the image in " + i.rootfs()));
    int exit = 0;
    List<ServiceHost> sources = new ArrayList<>();
    try (LocalCluster cluster =
        new LocalCluster(
            launcher, image.map(ImageRun::work).orElseGet(() -> root.resolve(".bench-memory")))) {
      cluster.startRouter(root.resolve("examples/pipelines"));
      List<Pod> pods = new ArrayList<>();
      Pod transform = cluster.pod("mem-transform");
      transform.startApp("transform", 1, 2, Map.of());
      Pod sink = cluster.pod("mem-sink");
      sink.startApp("sink", 0, 1, Map.of());
      List<Pod> sourcePods = new ArrayList<>();
      for (int i = 0; i < SOURCE_PODS; i++) {
        Pod pod = cluster.pod("mem-source-" + i);
        sources.add(
            ServiceHost.start(
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", pod.appPort(0))),
                new DemoSource(DemoSource.DEFAULT_NAME, StartupTopology.BATCH_SIZE)));
        sourcePods.add(pod);
      }
      pods.add(transform);
      pods.add(sink);
      pods.addAll(sourcePods);
      StringBuilder phases = new StringBuilder();
      for (SidecarKind kind : kinds) {
        phases.append(phase(cluster, pods, sourcePods, kind, rate, loadSeconds));
      }
      if (!archive) {
        phases.append(" archive=none");
      }
      System.out.printf(
          Locale.ROOT,
          "bench-memory: sidecar=%s profile=%s sidecars=%d tls=%s load=%d sources x %d batches/s x %d records%s%n",
          image.isPresent() ? "image" : "jar",
          launcher.sidecarProfile().value(),
          pods.size(),
          cluster.mutualTls() ? "mtls" : "plaintext",
          SOURCE_PODS,
          rate,
          StartupTopology.BATCH_SIZE,
          phases);
    } catch (Exception | AssertionError e) {
      System.err.println("bench: FAILED: " + e);
      exit = 1;
    } finally {
      sources.forEach(s -> s.close(Duration.ZERO));
    }
    System.exit(exit);
  }

  /** One phase: ten sidecars started, sampled idle and under load, stopped; the summary. */
  private static String phase(
      LocalCluster cluster,
      List<Pod> pods,
      List<Pod> sourcePods,
      SidecarKind kind,
      int rate,
      int loadSeconds)
      throws Exception {
    String label = kind.key();
    cluster.classArchives(kind.archive());
    cluster.sidecarOptions(kind.jvmFlags());
    List<ManagedProcess> sidecars = new ArrayList<>();
    for (Pod pod : pods) {
      sidecars.add(pod.launchSidecar(Map.of()));
    }
    List<ManagedChannel> channels = new ArrayList<>();
    List<RecordPusher> pushers = new ArrayList<>();
    try {
      for (Pod pod : pods) {
        StartupBench.pollUntil(pod.sidecar(), pod::sidecarReady);
      }
      // Idle: a few seconds for start-up garbage to be collected and freed malloc memory to be
      // trimmed (TrimNativeHeapInterval), then the largest of a few samples.
      StartupTopology.sleep(8_000);
      ProcessMemorySample[] idle = sample(sidecars, 12, 250);

      long records = (long) rate * StartupTopology.BATCH_SIZE * loadSeconds;
      for (Pod pod : sourcePods) {
        ManagedChannel channel =
            NettyChannelBuilder.forAddress("127.0.0.1", pod.sidecarPort()).usePlaintext().build();
        channels.add(channel);
        WorkloadSettings workload =
            WorkloadSettings.defaults(pod.name() + "-" + label)
                .withRecords(records)
                .withBatchSize(StartupTopology.BATCH_SIZE)
                .withRate(SendRate.batchesPerSecond(rate));
        RecordPusher pusher =
            new RecordPusher(
                channel,
                PusherSettings.defaults(DemoSource.DEFAULT_NAME, workload).withPipeline("demo"));
        pushers.add(pusher);
        pusher.start();
      }
      ProcessMemorySample[] load = sample(sidecars, loadSeconds * 4, 250);
      for (RecordPusher pusher : pushers) {
        if (!pusher.awaitCompletion(Duration.ofSeconds(loadSeconds + 60L))
            || pusher.snapshot().failed() > 0) {
          throw new IllegalStateException("load not delivered: " + pusher.snapshot().line());
        }
      }
      for (int i = 0; i < pods.size(); i++) {
        System.out.printf(
            Locale.ROOT,
            "memory: %s %-22s idle rss=%d anon=%d pss=%d MiB  load rss=%d anon=%d pss=%d MiB%n",
            label,
            sidecars.get(i).name(),
            idle[i].rss() >> 20,
            idle[i].anon() >> 20,
            idle[i].pss() >> 20,
            load[i].rss() >> 20,
            load[i].anon() >> 20,
            load[i].pss() >> 20);
      }
      return String.format(
          Locale.ROOT,
          " %s_idle_rss_mib=%d %s_idle_anon_mib=%d %s_idle_pss_mib=%d"
              + " %s_load_rss_mib=%d %s_load_anon_mib=%d %s_load_pss_mib=%d",
          label,
          medianMib(idle, ProcessMemorySample::rss),
          label,
          medianMib(idle, ProcessMemorySample::anon),
          label,
          medianMib(idle, ProcessMemorySample::pss),
          label,
          medianMib(load, ProcessMemorySample::rss),
          label,
          medianMib(load, ProcessMemorySample::anon),
          label,
          medianMib(load, ProcessMemorySample::pss));
    } finally {
      pushers.forEach(RecordPusher::close);
      channels.forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
      sidecars.parallelStream().forEach(s -> s.stop(Duration.ofSeconds(30)));
    }
  }

  /** Each process's largest figures over {@code count} samples {@code everyMillis} apart. */
  private static ProcessMemorySample[] sample(
      List<ManagedProcess> processes, int count, long everyMillis) {
    ProcessMemorySample[] max = new ProcessMemorySample[processes.size()];
    java.util.Arrays.fill(max, ProcessMemorySample.NONE);
    for (int n = 0; n < count; n++) {
      for (int i = 0; i < processes.size(); i++) {
        max[i] = max[i].max(ProcessMemorySample.of(processes.get(i).pid()));
      }
      StartupTopology.sleep(everyMillis);
    }
    return max;
  }

  private static long medianMib(
      ProcessMemorySample[] samples, ToLongFunction<ProcessMemorySample> figure) {
    long[] values = java.util.Arrays.stream(samples).mapToLong(figure).sorted().toArray();
    int n = values.length;
    long median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return median >> 20;
  }
}

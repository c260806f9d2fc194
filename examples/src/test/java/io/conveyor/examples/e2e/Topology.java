package io.conveyor.examples.e2e;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.local.JsonFields;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.conveyor.examples.local.PrometheusText;
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
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The demo topology as real processes started from the test classpath: a router, pod A (demo
 * transform + sidecar, and the source — this JVM, serving SourceService on pod A's first port) and
 * pod B (demo sink + sidecar).
 */
final class Topology implements AutoCloseable {

  final LocalCluster cluster;
  final Path pipelines;
  Pod podA;
  Pod podB;
  ManagedProcess transform;
  ManagedProcess sink;
  private ServiceHost source;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  Topology(String name) {
    Path root = Launcher.findRepoRoot();
    this.cluster =
        new LocalCluster(
            Launcher.classpath(root, System.getProperty("java.class.path")),
            root.resolve("examples/target/e2e/" + name));
    this.pipelines = root.resolve("examples/pipelines");
  }

  void startRouter() {
    cluster.startRouter(pipelines);
  }

  /** As {@link #startRouter()}, with extra environment for the router. */
  void startRouter(Map<String, String> env) {
    cluster.startRouter(pipelines, env);
  }

  /** Starts the router and both pods, as {@link #startRouterAndPods(Map, Map)} with no extras. */
  void startRouterAndPods() {
    startRouterAndPods(Map.of(), Map.of());
  }

  /**
   * Starts the router (with {@code routerEnv} added) and both pods: the router and the pods'
   * applications side by side, then, once all of them listen, both sidecars side by side. Each
   * sidecar thus finds the router serving and its pod's services listening, as when they were
   * started one after the other, without waiting for five JVMs in turn.
   */
  void startRouterAndPods(Map<String, String> routerEnv, Map<String, String> podASidecarEnv) {
    podB = cluster.pod("pod-b");
    podA = cluster.pod("pod-a");
    together(() -> startRouter(routerEnv), this::startPodBApp, this::startPodAApps);
    together(() -> podB.startSidecar(Map.of()), () -> podA.startSidecar(podASidecarEnv));
  }

  /** Starts both pods' applications and sidecars (the router may or may not be up). */
  void startPods() {
    startPods(Map.of());
  }

  /**
   * As {@link #startPods()}, with extra environment for pod A's sidecar. Both pods' applications
   * start side by side, then both sidecars.
   */
  void startPods(Map<String, String> podASidecarEnv) {
    podB = cluster.pod("pod-b");
    podA = cluster.pod("pod-a");
    together(this::startPodBApp, this::startPodAApps);
    together(() -> podB.startSidecar(Map.of()), () -> podA.startSidecar(podASidecarEnv));
  }

  /**
   * Starts the router (with {@code routerEnv} added) and pod A (the demo transform, the source,
   * this JVM, and the sidecar): the router and the transform side by side, then the sidecar.
   */
  void startRouterAndPodA(Map<String, String> routerEnv, Map<String, String> sidecarEnv) {
    podA = cluster.pod("pod-a");
    together(() -> startRouter(routerEnv), this::startPodAApps);
    podA.startSidecar(sidecarEnv);
  }

  /** Starts pod B: the demo sink and its sidecar. */
  void startPodB() {
    podB = cluster.pod("pod-b");
    startPodBApp();
    podB.startSidecar(Map.of());
  }

  private void startPodAApps() {
    transform = podA.startApp("transform", 1, 2, Map.of());
    source =
        ServiceHost.start(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", podA.appPort(0))),
            new DemoSource(DemoSource.DEFAULT_NAME, 500));
  }

  private void startPodBApp() {
    sink = podB.startApp("sink", 0, 1, Map.of());
  }

  /**
   * Runs {@code starts} side by side, each on a thread of its own (the JVMs they wait for start in
   * parallel), and returns once all have returned; the first failure is rethrown.
   */
  private static void together(Runnable... starts) {
    ExecutorService threads = Executors.newFixedThreadPool(starts.length);
    try {
      List<Future<?>> started = new ArrayList<>();
      for (Runnable start : starts) {
        started.add(threads.submit(start));
      }
      RuntimeException failure = null;
      for (Future<?> f : started) {
        try {
          f.get();
        } catch (ExecutionException e) {
          RuntimeException cause =
              e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
          if (failure == null) {
            failure = cause;
          } else {
            failure.addSuppressed(cause);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while starting the topology", e);
        }
      }
      if (failure != null) {
        throw failure;
      }
    } finally {
      threads.shutdownNow();
    }
  }

  /** Keeps something open (a fake listener) until the topology closes. */
  void closeLater(AutoCloseable closeable) {
    closeables.add(closeable);
  }

  /**
   * A pusher of {@code records} numbered records from source id {@code sourceId} into pod A's
   * sidecar.
   */
  RecordPusher pusher(String sourceId, long records, SendRate rate) {
    return pusher(sourceId, records, rate, 100);
  }

  /** As {@link #pusher(String, long, SendRate)}, with records of about {@code recordBytes}. */
  RecordPusher pusher(String sourceId, long records, SendRate rate, int recordBytes) {
    return pusher(sourceId, records, rate, recordBytes, Duration.ofSeconds(20));
  }

  /** As {@link #pusher(String, long, SendRate, int)}, with {@code ackTimeout} per batch. */
  RecordPusher pusher(
      String sourceId, long records, SendRate rate, int recordBytes, Duration ackTimeout) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", podA.sidecarPort()).usePlaintext().build();
    channels.add(channel);
    WorkloadSettings workload =
        WorkloadSettings.defaults(sourceId)
            .withRecords(records)
            .withBatchSize(200)
            .withRecordBytes(recordBytes)
            .withRate(rate);
    return new RecordPusher(
        channel,
        PusherSettings.defaults(DemoSource.DEFAULT_NAME, workload)
            .withPipeline("demo")
            .withTimeouts(Duration.ofSeconds(10), ackTimeout));
  }

  /** What the sink counted for a source: delivered, lost (given how many were sent), duplicates. */
  SinkCount sinkCount(String sourceId, long sent) {
    String json =
        cluster.get(podB.appPort(1), "/stats?sent=" + sent + "&source=" + sourceId).body();
    return new SinkCount(
        JsonFields.numberOr(json, "delivered", -1),
        JsonFields.numberOr(json, "lost", -1),
        JsonFields.numberOr(json, "duplicates", -1),
        json);
  }

  record SinkCount(long delivered, long lost, long duplicates, String json) {}

  double routerMetric(String name) {
    return PrometheusText.metric(cluster.get(cluster.routerMetricsPort(), "/metrics").body(), name);
  }

  @Override
  public void close() {
    channels.forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
    if (source != null) {
      source.close(Duration.ZERO);
    }
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception ignored) {
        // best effort: a fake listener
      }
    }
    cluster.close();
  }
}

package io.conveyor.examples.bench;

import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.conveyor.examples.source.DemoSource;
import io.conveyor.examples.support.ServiceHost;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What a starting sidecar meets in the start-up benchmark and the class-archive training run: the
 * router with the demo pipeline, pod B (the sink and its sidecar, running throughout) and pod A
 * (the transform process, and the demo source served by this JVM on pod A's first port) whose
 * sidecar is the one started and stopped. A record pushed into sidecar A goes to the transform in
 * its pod, then over mutual TLS to sidecar B and the sink.
 */
final class StartupTopology implements AutoCloseable {

  static final int BATCH_SIZE = 100;

  private final LocalCluster cluster;
  private final Pod podA;
  private final Pod podB;
  private final ServiceHost source;

  private StartupTopology(LocalCluster cluster, Pod podA, Pod podB, ServiceHost source) {
    this.cluster = cluster;
    this.podA = podA;
    this.podB = podB;
    this.source = source;
  }

  /** Starts all but sidecar A; returns once sidecar B is registered. */
  static StartupTopology start(LocalCluster cluster, Path pipelines) {
    cluster.startRouter(pipelines);
    Pod podB = cluster.pod("pod-b");
    podB.startApp("sink", 0, 1, Map.of());
    podB.startSidecar(Map.of());
    Pod podA = cluster.pod("pod-a");
    podA.startApp("transform", 1, 2, Map.of());
    ServiceHost source =
        ServiceHost.start(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", podA.appPort(0))),
            new DemoSource(DemoSource.DEFAULT_NAME, BATCH_SIZE));
    StartupTopology topology = new StartupTopology(cluster, podA, podB, source);
    topology.awaitReady(podB, Duration.ofSeconds(60));
    return topology;
  }

  LocalCluster cluster() {
    return cluster;
  }

  /** The pod whose sidecar is started and stopped. */
  Pod podA() {
    return podA;
  }

  /** Waits until {@code pod}'s sidecar answers /readyz 200; fails with its log otherwise. */
  void awaitReady(Pod pod, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!pod.sidecarReady()) {
      ManagedProcess sidecar = pod.sidecar();
      if (!sidecar.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            sidecar.name() + " not ready within " + timeout + ":\n" + sidecar.logTail(30));
      }
      sleep(50);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    source.close(Duration.ZERO);
  }
}

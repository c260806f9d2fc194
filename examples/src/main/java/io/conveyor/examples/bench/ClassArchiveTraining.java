package io.conveyor.examples.bench;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.local.Component;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import io.conveyor.examples.source.DemoSource;
import io.conveyor.examples.source.PusherSettings;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.WorkloadSettings;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;

/**
 * The training run of the sidecar's class-data-sharing archive, run by {@code ./conveyor build}:
 * the sidecar as it really starts and works — enrolment, discovery, registration, a few hundred
 * records pushed by a source through the transform and over mutual TLS to another sidecar, a
 * metrics scrape, then an orderly drain on SIGTERM — with {@code -XX:ArchiveClassesAtExit}, so that
 * every class it loaded on those paths goes into the archive as it exits.
 *
 * <p>The archive is only valid for the exact jar it was made with (the JVM records each class path
 * entry's size and modification time, and ignores the archive when they differ): the build makes it
 * again whenever the jar is newer. It is written beside the target and moved into place only once
 * the sidecar exited cleanly, so a failed run leaves no half-written archive behind.
 */
public final class ClassArchiveTraining {

  private static final long TRAINING_RECORDS = 2_000;

  private ClassArchiveTraining() {}

  public static void main(String[] args) {
    Path root = Launcher.findRepoRoot();
    Launcher launcher = Launcher.jars(root);
    Path archive =
        root.resolve(Component.SIDECAR.classArchive().orElseThrow()).toAbsolutePath().normalize();
    if (!launcher.missing().isEmpty()) {
      System.err.println("class archive: build first; missing " + launcher.missing());
      System.exit(2);
      return;
    }
    Path partial = archive.resolveSibling(archive.getFileName() + ".training");
    int exit = 0;
    long began = System.nanoTime();
    try (LocalCluster cluster = new LocalCluster(launcher, root.resolve(".class-archive"))) {
      // The training sidecar runs without the old archive: a dynamic archive is made on top of
      // the JDK's base archive only.
      cluster.classArchives(false);
      Files.deleteIfExists(partial);
      try (StartupTopology topology =
          StartupTopology.start(cluster, root.resolve("examples/pipelines"))) {
        train(topology, partial);
      }
      Files.move(
          partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      System.out.printf(
          "class archive: %s (%d KiB) made in %d ms%n",
          root.relativize(archive),
          Files.size(archive) >> 10,
          (System.nanoTime() - began) / 1_000_000);
    } catch (Exception | AssertionError e) {
      System.err.println("class archive: training FAILED: " + e);
      deleteQuietly(partial);
      exit = 1;
    }
    System.exit(exit);
  }

  private static void train(StartupTopology topology, Path partial) throws Exception {
    Pod pod = topology.podA();
    ManagedProcess sidecar =
        pod.launchSidecar(Map.of("JDK_JAVA_OPTIONS", "-XX:ArchiveClassesAtExit=" + partial));
    ManagedChannel channel = null;
    try {
      StartupBench.pollUntil(sidecar, () -> pod.sidecarReady());
      channel =
          NettyChannelBuilder.forAddress("127.0.0.1", pod.sidecarPort()).usePlaintext().build();
      new FirstRecordProbe(channel, DemoSource.DEFAULT_NAME)
          .awaitDelivered(StartupBench.POLL, StartupBench.START_TIMEOUT, Duration.ofSeconds(5));
      WorkloadSettings workload =
          WorkloadSettings.defaults("class-archive-training")
              .withRecords(TRAINING_RECORDS)
              .withBatchSize(StartupTopology.BATCH_SIZE);
      try (RecordPusher pusher =
          new RecordPusher(
              channel,
              PusherSettings.defaults(DemoSource.DEFAULT_NAME, workload).withPipeline("demo"))) {
        pusher.start();
        if (!pusher.awaitCompletion(Duration.ofSeconds(60)) || pusher.snapshot().failed() > 0) {
          throw new IllegalStateException("training records not delivered: " + pusher.snapshot());
        }
      }
      String metrics = pod.sidecarMetrics();
      if (!metrics.contains("conveyor_sidecar_registered")) {
        throw new IllegalStateException("no sidecar metrics from " + sidecar.name());
      }
    } finally {
      if (channel != null) {
        GrpcServers.shutdown(channel, Duration.ofSeconds(1));
      }
    }
    // SIGTERM: the sidecar drains and exits 0 through System.exit, where the JVM writes the
    // archive (a SIGKILL would write nothing).
    int code = sidecar.stop(Duration.ofSeconds(60));
    if (code != 0 || !Files.isRegularFile(partial)) {
      throw new IllegalStateException(
          sidecar.name()
              + " exited with "
              + code
              + (Files.isRegularFile(partial) ? "" : " and wrote no archive")
              + ":\n"
              + sidecar.logTail(20));
    }
  }

  static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // nothing to clean up then
    }
  }
}

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
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The training run of the sidecar's class-data-sharing archive: the sidecar as it really starts and
 * works — enrolment, discovery, registration, a few hundred records pushed by a source through the
 * transform and over mutual TLS to another sidecar, a metrics scrape, then an orderly drain on
 * SIGTERM — with {@code -XX:ArchiveClassesAtExit}, so that every class it loaded on those paths
 * goes into the archive as it exits.
 *
 * <p>Two forms. Without arguments ({@code ./conveyor build}): the packaged jar on this machine's
 * JDK, into {@code sidecar/target/conveyor-sidecar.jsa}. With {@code --rootfs=DIR --archive=FILE
 * --work=DIR -- ENTRYPOINT...} ({@code ./conveyor images}): the sidecar image's entrypoint run
 * inside the image's unpacked root filesystem (see {@link RootfsCommand}; root needed), so the
 * archive is made by the image's JDK for the image's classpath. Both pods' sidecars run the image
 * (the trained one is pod A's); the router and the apps run on the host as in the first form.
 *
 * <p>The archive is only valid for the exact JDK and class path it was made with (the JVM records
 * each class path entry's size and modification time, and ignores the archive when they differ):
 * the build makes it again whenever the jar is newer. It is written beside the target and moved
 * into place only once the sidecar exited cleanly, so a failed run leaves no half-written archive
 * behind. Every process it started is stopped when it ends, also on SIGTERM (a shutdown hook).
 */
public final class ClassArchiveTraining {

  private static final long TRAINING_RECORDS = 2_000;

  /** Where the sidecar in an image's root filesystem writes the archive, inside that root. */
  static final String IMAGE_PARTIAL = "/tmp/conveyor-sidecar.jsa.training";

  private ClassArchiveTraining() {}

  /**
   * What one training run uses: how the sidecar is started, where the cluster keeps its files,
   * where the sidecar's JVM writes the archive ({@code partialInJvm}, its own view of the path) and
   * where that file is seen from here ({@code partial}), and where the archive goes.
   */
  record Plan(Launcher launcher, Path workDir, String partialInJvm, Path partial, Path archive) {

    static Plan local(Path root) {
      Path archive =
          root.resolve(Component.SIDECAR.classArchive().orElseThrow()).toAbsolutePath().normalize();
      Path partial = archive.resolveSibling(archive.getFileName() + ".training");
      return new Plan(
          Launcher.jars(root),
          root.resolve(".class-archive"),
          partial.toString(),
          partial,
          archive);
    }

    /** {@code --rootfs=DIR --archive=FILE --work=DIR -- ENTRYPOINT...} */
    static Plan image(Path root, List<String> args) {
      ImageRun run = ImageRun.parse(args, Set.of("archive"), USAGE);
      return new Plan(
          run.launcher(root),
          run.work(),
          IMAGE_PARTIAL,
          run.rootfs().resolve(IMAGE_PARTIAL.substring(1)),
          Path.of(run.options().get("archive")).toAbsolutePath().normalize());
    }
  }

  static final String USAGE =
      "usage: ClassArchiveTraining [--rootfs=DIR --archive=FILE --work=DIR -- ENTRYPOINT...]";

  public static void main(String[] args) {
    Path root = Launcher.findRepoRoot();
    Plan plan;
    try {
      plan = args.length == 0 ? Plan.local(root) : Plan.image(root, List.of(args));
    } catch (IllegalArgumentException e) {
      System.err.println("class archive: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (!plan.launcher().missing().isEmpty()) {
      System.err.println("class archive: build first; missing " + plan.launcher().missing());
      System.exit(2);
      return;
    }
    int exit = 0;
    long began = System.nanoTime();
    try (LocalCluster cluster = new LocalCluster(plan.launcher(), plan.workDir())) {
      // The training sidecar runs without the old archive: a dynamic archive is made on top of
      // the JDK's base archive only.
      cluster.classArchives(false);
      Files.deleteIfExists(plan.partial());
      try (StartupTopology topology =
          StartupTopology.start(cluster, root.resolve("examples/pipelines"))) {
        train(topology, plan);
      }
      moveIntoPlace(plan.partial(), plan.archive());
      System.out.printf(
          "class archive: %s (%d KiB) made in %d ms%n",
          plan.archive(),
          Files.size(plan.archive()) >> 10,
          (System.nanoTime() - began) / 1_000_000);
    } catch (Exception | AssertionError e) {
      System.err.println("class archive: training FAILED: " + e);
      deleteQuietly(plan.partial());
      exit = 1;
    }
    System.exit(exit);
  }

  /**
   * Moves the finished archive to {@code archive} whole: through a temporary file beside it when
   * the two are on different file systems (a truncated archive crashes the JVM that maps it).
   */
  static void moveIntoPlace(Path partial, Path archive) throws IOException {
    Files.createDirectories(archive.getParent());
    Path beside = archive.resolveSibling(archive.getFileName() + ".training");
    if (!partial.equals(beside)) {
      Files.copy(partial, beside, StandardCopyOption.REPLACE_EXISTING);
      Files.delete(partial);
    }
    Files.move(
        beside, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void train(StartupTopology topology, Plan plan) throws Exception {
    Path partial = plan.partial();
    Pod pod = topology.podA();
    ManagedProcess sidecar =
        pod.launchSidecar(
            Map.of("JDK_JAVA_OPTIONS", "-XX:ArchiveClassesAtExit=" + plan.partialInJvm()));
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

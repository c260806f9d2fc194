package io.conveyor.examples.demo;

import io.conveyor.common.config.ConfigException;
import io.conveyor.examples.local.JsonFields;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./conveyor demo}: the example pipeline {@code demo-source → demo-transform → demo-sink} on
 * this machine. A standalone router reads {@code examples/pipelines/}; pod A runs the source, the
 * transform and a sidecar; pod B runs the sink and a sidecar. Nobody wires an address: the sidecars
 * discover their pod's services, register, get assignments, and the records flow through the
 * transform on A and across to the sink on B.
 *
 * <p>Ends with {@code demo: sent=<n> delivered=<n> lost=<n> duplicates=<n> elapsed_ms=<n>
 * records_per_sec=<n>}, where delivered, lost and duplicates are counted by the sink from the
 * records' sequence numbers. Exit code 0 when nothing was lost.
 */
public final class LocalDemo {

  private LocalDemo() {}

  public static void main(String[] args) throws Exception {
    DemoSettings settings;
    try {
      settings = DemoSettings.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("demo: " + e.getMessage());
      System.exit(2);
      return;
    }
    Path root = Launcher.findRepoRoot();
    Launcher launcher = Launcher.jars(root);
    List<String> missing = launcher.missing();
    if (!missing.isEmpty()) {
      System.err.println("demo: build first (./conveyor build); missing " + missing);
      System.exit(2);
      return;
    }
    Path workDir = root.resolve(".demo");
    clean(workDir.resolve("logs"));
    int code;
    try (LocalCluster cluster = new LocalCluster(launcher, workDir)) {
      code = run(cluster, root.resolve("examples/pipelines"), settings);
    }
    System.exit(code);
  }

  static int run(LocalCluster cluster, Path pipelines, DemoSettings settings)
      throws InterruptedException {
    say(
        "router: standalone, "
            + (cluster.mutualTls()
                ? "mutual TLS on every hop under its own CA in " + cluster.caDir()
                : "plaintext (SECURITY_MODE=plaintext)")
            + ", pipelines from "
            + pipelines
            + " (logs in "
            + cluster.workDir().resolve("logs")
            + ")");
    cluster.startRouter(pipelines);

    Pod podB = cluster.pod("pod-b");
    podB.startApp("sink", 0, 1, Map.of());
    podB.startSidecar(Map.of());
    say(
        "pod-b: demo-sink on :"
            + podB.appPort(0)
            + ", sidecar on :"
            + podB.sidecarPort()
            + " scanning "
            + podB.appPort(0)
            + "-"
            + podB.appPort(LocalCluster.APP_PORTS - 1));

    Pod podA = cluster.pod("pod-a");
    podA.startApp("transform", 1, 2, Map.of());
    podA.startSidecar(Map.of());
    say(
        "pod-a: demo-transform on :"
            + podA.appPort(1)
            + ", sidecar on :"
            + podA.sidecarPort()
            + " scanning "
            + podA.appPort(0)
            + "-"
            + podA.appPort(LocalCluster.APP_PORTS - 1));

    ManagedProcess source =
        podA.startApp(
            "source",
            0,
            3,
            Map.of(
                "PIPELINE",
                "demo",
                "RECORDS",
                Long.toString(settings.records()),
                "BATCH_SIZE",
                Integer.toString(settings.batchSize()),
                "RECORD_BYTES",
                Integer.toString(settings.recordBytes()),
                "EXIT_WHEN_DONE",
                "true",
                "PROGRESS_INTERVAL_MS",
                "60000"));
    say(
        "pod-a: demo-source on :"
            + podA.appPort(0)
            + " pushing "
            + settings.records()
            + " records of "
            + settings.recordBytes()
            + " bytes in batches of "
            + settings.batchSize()
            + " to its sidecar");

    long deadline = System.nanoTime() + settings.timeout().toNanos();
    while (source.isAlive() && System.nanoTime() < deadline) {
      source.waitFor(Duration.ofSeconds(1));
      LocalCluster.HttpResult stats = cluster.get(podA.appPort(3), "/stats");
      if (stats.ok()) { // gone once the source finished and exited
        progress(settings, stats.body(), cluster.get(podB.appPort(1), "/stats").body());
      }
    }
    if (source.isAlive()) {
      System.out.println(
          "demo: timed out after " + settings.timeout().toSeconds() + " s; see " + source.log());
      return 1;
    }
    if (source.exitCode() != 0) {
      System.out.println(
          "demo: the source failed (exit " + source.exitCode() + "):\n" + source.logTail(20));
      return 1;
    }
    // Delivered, lost and duplicates as the sink counted them from sequence numbers; the
    // elapsed time is the source's own, from its first send to its last acknowledgement.
    String sink = cluster.get(podB.appPort(1), "/stats?sent=" + settings.records()).body();
    long delivered = JsonFields.numberOr(sink, "delivered", -1);
    long lost = JsonFields.numberOr(sink, "lost", -1);
    long duplicates = JsonFields.numberOr(sink, "duplicates", -1);
    long filtered = settings.records() - JsonFields.numberOr(sink, "expected", settings.records());
    long elapsed = elapsedFromLog(source.log()).orElse(0);
    long rate = elapsed > 0 ? settings.records() * 1000 / elapsed : 0;
    System.out.println(
        String.format(
            Locale.ROOT,
            "demo: sent=%d delivered=%d lost=%d duplicates=%d elapsed_ms=%d records_per_sec=%d filtered=%d",
            settings.records(),
            delivered,
            lost,
            duplicates,
            elapsed,
            rate,
            filtered));
    return lost == 0 ? 0 : 1;
  }

  private static void progress(DemoSettings settings, String source, String sink) {
    long finished =
        JsonFields.numberOr(source, "delivered", 0)
            + JsonFields.numberOr(source, "filtered", 0)
            + JsonFields.numberOr(source, "dead_lettered", 0)
            + JsonFields.numberOr(source, "failed", 0);
    say(
        String.format(
            Locale.ROOT,
            "progress: %3d%%  produced=%d acknowledged=%d at-sink=%d resent=%d",
            finished * 100 / settings.records(),
            JsonFields.numberOr(source, "produced", 0),
            finished,
            JsonFields.numberOr(sink, "delivered", 0),
            JsonFields.numberOr(source, "resent", 0)));
  }

  /** {@code elapsed_ms=<n>} from the source's final {@code done} line. */
  private static OptionalLong elapsedFromLog(Path log) {
    Pattern elapsed = Pattern.compile(": done .*elapsed_ms=(\\d+)");
    try (Stream<String> lines = Files.lines(log)) {
      return lines
          .map(elapsed::matcher)
          .filter(Matcher::find)
          .mapToLong(m -> Long.parseLong(m.group(1)))
          .reduce((first, last) -> last);
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  private static void say(String line) {
    System.out.println("demo: " + line);
  }

  private static void clean(Path logs) throws IOException {
    if (Files.isDirectory(logs)) {
      try (Stream<Path> files = Files.list(logs)) {
        for (Path file : files.toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
  }
}

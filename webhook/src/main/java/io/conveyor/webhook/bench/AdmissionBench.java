package io.conveyor.webhook.bench;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.webhook.WebhookMain;
import io.conveyor.webhook.tls.PemCodec;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Admission latency and memory at a fixed request rate over HTTPS.
 *
 * <p>Each run starts the webhook as a separate JVM (the jar, its JVM options, TLS in memory, no API
 * server), waits until it is ready, then sends AdmissionReviews of a typical opted-in pod at a
 * fixed rate over kept-alive HTTPS connections, as the API server does (open loop: latency is
 * measured from when each request was due, so a stall is not hidden by sending less), first for a
 * warm-up, then for the measured period. Memory is the server process's VmRSS (the largest seen
 * while measuring, and at the end, with its anonymous part) and its heap in use, read from its own
 * metrics at the end. Several runs, each with a fresh server; the medians are the result.
 *
 * <pre>java -cp webhook/target/conveyor-webhook.jar io.conveyor.webhook.bench.AdmissionBench
 *     [--rate=200] [--warmup=10] [--duration=20] [--runs=3]
 *     [--variant='label|classpath|jvm options|ENV=value,ENV=value' ...]
 *     [--train-archive=webhook/target/conveyor-webhook.jsa]
 * </pre>
 *
 * <p>Without {@code --variant} one variant runs: this jar with {@code webhook/jvm.options} (run
 * from the repository root), the options the image ships with. With several, the runs alternate
 * between them (A, B, A, B, ...) so that a change in the machine's load falls on both alike; an
 * empty classpath means this jar, empty options mean {@code @webhook/jvm.options}. {@code
 * --train-archive} instead makes an application class-data-sharing archive of the webhook's
 * classes: one short admission run with {@code -XX:ArchiveClassesAtExit}, then a graceful stop.
 */
public final class AdmissionBench {

  /** The image's JVM options file, relative to the repository root. */
  static final Path JVM_OPTIONS_FILE = Path.of("webhook", "jvm.options");

  private AdmissionBench() {}

  /** What runs as the server: a jar (classpath), JVM options, extra environment. */
  record Variant(String label, String classpath, String jvmOpts, Map<String, String> env) {

    static Variant parse(String spec, String defaultClasspath, String defaultJvmOpts) {
      String[] parts = spec.split("\\|", -1);
      if (parts.length < 1 || parts.length > 4 || parts[0].isBlank()) {
        throw new IllegalArgumentException(
            "--variant='" + spec + "': expected 'label|classpath|jvm options|ENV=value,...'");
      }
      String classpath = parts.length > 1 && !parts[1].isBlank() ? parts[1] : defaultClasspath;
      String opts = parts.length > 2 && !parts[2].isBlank() ? parts[2] : defaultJvmOpts;
      Map<String, String> env = new LinkedHashMap<>();
      if (parts.length > 3) {
        for (String pair : parts[3].split(",")) {
          if (pair.isBlank()) {
            continue;
          }
          int eq = pair.indexOf('=');
          if (eq < 1) {
            throw new IllegalArgumentException(
                "--variant='" + spec + "': '" + pair + "' is not ENV=value");
          }
          env.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
        }
      }
      return new Variant(parts[0].strip(), classpath, opts, env);
    }
  }

  /** One run's figures; latencies in ms, memory in MiB. */
  record RunResult(
      double p50,
      double p99,
      double p999,
      double max,
      double rssMax,
      double rssEnd,
      double anonEnd,
      double heapUsed,
      double cpuMsPerReview,
      double readySeconds,
      long sent,
      long errors,
      long unanswered,
      Map<String, Long> errorKinds,
      String loadAverage) {

    boolean failed() {
      return errors > 0 || unanswered > 0;
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, List<String>> options = options(args);
    int rate = Integer.parseInt(single(options, "rate", "200"));
    int warmupSeconds = Integer.parseInt(single(options, "warmup", "10"));
    int durationSeconds = Integer.parseInt(single(options, "duration", "20"));
    int runs = Integer.parseInt(single(options, "runs", "3"));
    if (!Files.isRegularFile(JVM_OPTIONS_FILE)) {
      System.err.println(
          "webhook-bench: no " + JVM_OPTIONS_FILE + ": run from the repository root");
      System.exit(2);
      return;
    }
    String ownClasspath = System.getProperty("java.class.path");
    String defaultOpts = "@" + JVM_OPTIONS_FILE.toAbsolutePath();

    String train = single(options, "train-archive", null);
    if (train != null) {
      System.exit(trainArchive(Path.of(train), ownClasspath, defaultOpts, rate));
      return;
    }

    List<Variant> variants = new ArrayList<>();
    for (String spec : options.getOrDefault("variant", List.of())) {
      variants.add(Variant.parse(spec, ownClasspath, defaultOpts));
    }
    if (variants.isEmpty()) {
      variants.add(new Variant("current", ownClasspath, defaultOpts, Map.of()));
    }

    List<List<RunResult>> results = new ArrayList<>();
    variants.forEach(v -> results.add(new ArrayList<>()));
    for (int round = 1; round <= runs; round++) {
      for (int i = 0; i < variants.size(); i++) {
        Variant variant = variants.get(i);
        RunResult r = run(variant, rate, warmupSeconds, durationSeconds, null);
        results.get(i).add(r);
        System.out.printf(
            Locale.ROOT,
            "webhook-bench: run=%d variant=%s p50_ms=%.2f p99_ms=%.2f p99.9_ms=%.2f max_ms=%.2f"
                + " rss_mib=%.0f rss_end_mib=%.0f anon_end_mib=%.0f heap_used_mib=%.0f"
                + " server_cpu_ms_per_review=%.3f ready_s=%.2f sent=%d"
                + " errors=%d %s unanswered=%d loadavg=\"%s\"%s%n",
            round,
            variant.label(),
            r.p50(),
            r.p99(),
            r.p999(),
            r.max(),
            r.rssMax(),
            r.rssEnd(),
            r.anonEnd(),
            r.heapUsed(),
            r.cpuMsPerReview(),
            r.readySeconds(),
            r.sent(),
            r.errors(),
            r.errorKinds(),
            r.unanswered(),
            r.loadAverage(),
            r.failed() ? " FAILED" : "");
      }
    }

    boolean anyFailed = false;
    for (int i = 0; i < variants.size(); i++) {
      Variant v = variants.get(i);
      List<RunResult> rs = results.get(i);
      long failedRuns = rs.stream().filter(RunResult::failed).count();
      anyFailed |= failedRuns > 0;
      // The first line keeps the format of a single run: the medians of every run.
      System.out.printf(
          Locale.ROOT,
          "webhook-bench: %srate=%d p50_ms=%.2f p99_ms=%.2f rss_mib=%.0f heap_used_mib=%.0f%n",
          variants.size() > 1 ? "variant=" + v.label() + " " : "",
          rate,
          median(rs, RunResult::p50),
          median(rs, RunResult::p99),
          median(rs, RunResult::rssMax),
          median(rs, RunResult::heapUsed));
      System.out.printf(
          Locale.ROOT,
          "webhook-bench: details: variant=%s medians of %d runs (%d failed): p99.9_ms=%.2f"
              + " max_ms=%.2f rss_end_mib=%.0f anon_end_mib=%.0f server_cpu_ms_per_review=%.3f"
              + " ready_s=%.2f;"
              + " measured=%ds warmup=%ds each;"
              + " classpath=%s jvm_opts=\"%s\" env=%s (the server is a separate process; rss is its"
              + " VmRSS, the largest seen while measuring; client and server share the machine)%n",
          v.label(),
          rs.size(),
          failedRuns,
          median(rs, RunResult::p999),
          median(rs, RunResult::max),
          median(rs, RunResult::rssEnd),
          median(rs, RunResult::anonEnd),
          median(rs, RunResult::cpuMsPerReview),
          median(rs, RunResult::readySeconds),
          durationSeconds,
          warmupSeconds,
          v.classpath().equals(ownClasspath) ? "this jar" : v.classpath(),
          v.jvmOpts(),
          v.env());
    }
    if (anyFailed) {
      // Errors or unanswered reviews make a run's figures meaningless: said, and the exit code.
      System.err.println("webhook-bench: FAILED: some runs had errors or unanswered reviews");
    }
    System.exit(anyFailed ? 1 : 0);
  }

  /**
   * Makes a class-data-sharing archive from a short admission run: the JVM writes the classes it
   * loaded when it exits (a graceful stop after SIGTERM), to a temporary file moved into place
   * whole, since a truncated archive crashes the JVM that maps it.
   */
  private static int trainArchive(Path archive, String classpath, String opts, int rate)
      throws Exception {
    Path tmp = archive.resolveSibling(archive.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Variant training =
        new Variant(
            "training",
            classpath,
            opts + " -XX:ArchiveClassesAtExit=" + tmp.toAbsolutePath(),
            Map.of());
    RunResult r = run(training, rate, 2, 8, tmp);
    if (!Files.isRegularFile(tmp) || Files.size(tmp) == 0) {
      System.err.println("webhook-bench: the training run wrote no archive at " + tmp);
      return 1;
    }
    Files.move(tmp, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.out.printf(
        Locale.ROOT,
        "webhook-bench: class archive %s (%d KiB) from %d reviews%s%n",
        archive,
        Files.size(archive) / 1024,
        r.sent(),
        r.failed() ? " (the training run had errors; the archive is still valid)" : "");
    return 0;
  }

  /**
   * One run with a fresh server. With {@code awaitArchive} the server is stopped gracefully and
   * waited for while it writes its archive.
   */
  private static RunResult run(
      Variant variant, int rate, int warmupSeconds, int durationSeconds, Path awaitArchive)
      throws Exception {
    Path work = Files.createTempDirectory("webhook-bench");
    Path caFile = work.resolve("ca.crt");
    int httpsPort = freePort();
    int metricsPort = freePort();
    long launched = System.nanoTime();
    Process server =
        startServer(variant, httpsPort, metricsPort, caFile, work.resolve("server.log"));
    ExecutorService clientExecutor =
        Executors.newFixedThreadPool(4, DaemonThreads.named("bench-client"));
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    try {
      HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      awaitReady(plain, metricsPort, caFile, server, work.resolve("server.log"));
      // From exec to ready: JVM start, TLS set-up and the server's own warm-up.
      double readySeconds = (System.nanoTime() - launched) / 1e9;
      HttpClient client =
          httpsClient(PemCodec.parseCertificates(Files.readString(caFile)), clientExecutor);
      String template = reviewTemplate();
      URI uri = URI.create("https://localhost:" + httpsPort + "/mutate");

      Recorder recorder = new Recorder(3);
      AtomicLong sent = new AtomicLong();
      AtomicLong answered = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      Map<String, Long> errorKinds = new ConcurrentHashMap<>();
      long intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
      long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
      long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
      long end = measureFrom + TimeUnit.SECONDS.toNanos(durationSeconds);
      AtomicLong tick = new AtomicLong();

      // A late tick is run at once (fixed rate catches up) and its latency still counts from
      // when it was due: the client never sends less because the server was slow.
      ticker.scheduleAtFixedRate(
          () -> {
            long due = start + tick.getAndIncrement() * intervalNanos;
            if (due >= end) {
              return;
            }
            boolean measured = due >= measureFrom;
            String uid = UUID.randomUUID().toString();
            HttpRequest request =
                HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(template.replace("@UID@", uid)))
                    .build();
            if (measured) {
              sent.incrementAndGet();
            }
            client
                .sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .whenComplete(
                    (response, failure) -> {
                      long latency = System.nanoTime() - due;
                      if (!measured) {
                        return;
                      }
                      String error = null;
                      if (failure != null) {
                        Throwable root = failure;
                        while (root.getCause() != null) {
                          root = root.getCause();
                        }
                        error = root.getClass().getSimpleName();
                      } else if (response.statusCode() != 200) {
                        error = "http-" + response.statusCode();
                      } else if (!response.body().contains(uid)
                          || !response.body().contains("\"patch\"")) {
                        error = "wrong-response";
                      }
                      if (error != null) {
                        errors.incrementAndGet();
                        errorKinds.merge(error, 1L, Long::sum);
                      }
                      recorder.recordValue(Math.max(1, latency / 1_000));
                      answered.incrementAndGet();
                    });
          },
          start - System.nanoTime(),
          intervalNanos,
          TimeUnit.NANOSECONDS);

      long pid = server.pid();
      long maxRssKib = 0;
      long cpuTicksAtStart = -1;
      long cpuTicksAtEnd = -1;
      // Then until every measured request is answered or has had its 10 s timeout.
      long quietUntil = end + TimeUnit.SECONDS.toNanos(2);
      long giveUpAt = end + TimeUnit.SECONDS.toNanos(12);
      while (System.nanoTime() < quietUntil
          || (answered.get() < sent.get() && System.nanoTime() < giveUpAt)) {
        long now = System.nanoTime();
        if (now >= measureFrom) {
          maxRssKib = Math.max(maxRssKib, status(pid, "VmRSS"));
          if (cpuTicksAtStart < 0) {
            cpuTicksAtStart = cpuTicks(pid);
          }
        }
        if (now >= end && cpuTicksAtEnd < 0) {
          cpuTicksAtEnd = cpuTicks(pid);
        }
        Thread.sleep(500);
      }
      ticker.shutdownNow();
      long finalRssKib = status(pid, "VmRSS");
      long finalAnonKib = status(pid, "RssAnon");
      String serverMetrics = scrape(plain, metricsPort);
      double heapUsedBytes =
          sum(serverMetrics, "jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\}");
      Histogram histogram = recorder.getIntervalHistogram();
      return new RunResult(
          histogram.getValueAtPercentile(50) / 1000.0,
          histogram.getValueAtPercentile(99) / 1000.0,
          histogram.getValueAtPercentile(99.9) / 1000.0,
          histogram.getMaxValue() / 1000.0,
          maxRssKib / 1024.0,
          finalRssKib / 1024.0,
          finalAnonKib / 1024.0,
          heapUsedBytes / (1024 * 1024),
          // The server's CPU time (user + system, in 10 ms ticks) over the measured period, per
          // review sent in it: a figure the machine's load changes far less than latency.
          cpuTicksAtStart < 0 || cpuTicksAtEnd < 0 || sent.get() == 0
              ? Double.NaN
              : (cpuTicksAtEnd - cpuTicksAtStart) * 10.0 / sent.get(),
          readySeconds,
          sent.get(),
          errors.get(),
          sent.get() - histogram.getTotalCount(),
          Map.copyOf(errorKinds),
          loadAverage());
    } finally {
      ticker.shutdownNow();
      clientExecutor.shutdownNow();
      server.destroy();
      long wait = awaitArchive != null ? 120 : 10;
      if (!server.waitFor(wait, TimeUnit.SECONDS)) {
        server.destroyForcibly();
        server.waitFor(10, TimeUnit.SECONDS);
      }
      deleteTree(work);
    }
  }

  private static Process startServer(
      Variant variant, int httpsPort, int metricsPort, Path caFile, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    command.add(java);
    for (String opt : variant.jvmOpts().trim().split("\\s+")) {
      if (!opt.isEmpty()) {
        command.add(opt);
      }
    }
    command.add("-cp");
    command.add(variant.classpath());
    command.add(WebhookMain.class.getName());
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.put("TLS_STORE", "memory");
    env.put("TLS_CA_OUTPUT_FILE", caFile.toString());
    env.put("HTTPS_PORT", Integer.toString(httpsPort));
    env.put("METRICS_PORT", Integer.toString(metricsPort));
    env.put("SHUTDOWN_DELAY_SECS", "0");
    env.put("LOG_LEVEL", "WARN");
    env.putAll(variant.env());
    builder.redirectErrorStream(true);
    builder.redirectOutput(log.toFile());
    return builder.start();
  }

  private static void awaitReady(
      HttpClient plain, int metricsPort, Path caFile, Process server, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException(
            "the webhook exited with " + server.exitValue() + ": " + Files.readString(log).strip());
      }
      try {
        HttpResponse<String> ready =
            plain.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + metricsPort + "/readyz"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200 && Files.exists(caFile)) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the webhook did not become ready within 60 s");
  }

  private static HttpClient httpsClient(List<X509Certificate> trusted, ExecutorService executor)
      throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    for (int i = 0; i < trusted.size(); i++) {
      store.setCertificateEntry("ca-" + i, trusted.get(i));
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return HttpClient.newBuilder()
        .sslContext(context)
        .version(HttpClient.Version.HTTP_1_1)
        .executor(executor)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** A Deployment's pod as the API server sends it: generateName, one container, opted in. */
  static String reviewTemplate() {
    return """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
          "uid":"@UID@","kind":{"group":"","version":"v1","kind":"Pod"},
          "resource":{"group":"","version":"v1","resource":"pods"},
          "requestKind":{"group":"","version":"v1","kind":"Pod"},
          "requestResource":{"group":"","version":"v1","resource":"pods"},
          "namespace":"shop","operation":"CREATE",
          "userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller","uid":"4f1c","groups":["system:serviceaccounts","system:authenticated"]},
          "object":{"kind":"Pod","apiVersion":"v1","metadata":{"generateName":"mask-pii-7d9f8b6c5-","namespace":"shop",
            "labels":{"app":"mask-pii","pod-template-hash":"7d9f8b6c5"},
            "annotations":{"conveyor.etl/inject":"true"},
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"mask-pii-7d9f8b6c5","uid":"0a8e","controller":true,"blockOwnerDeletion":true}]},
            "spec":{"volumes":[{"name":"kube-api-access-x7k2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}],"defaultMode":420}}],
              "containers":[{"name":"app","image":"example.org/mask-pii:1.4.2","ports":[{"name":"grpc","containerPort":50051,"protocol":"TCP"}],
                "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},
                "volumeMounts":[{"name":"kube-api-access-x7k2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
              "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
              "serviceAccountName":"mask-pii","serviceAccount":"mask-pii","securityContext":{},"schedulerName":"default-scheduler",
              "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
              "priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},
            "status":{}},
          "oldObject":null,"dryRun":false,
          "options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}}
        """;
  }

  /** User plus system CPU time of a process, in clock ticks (USER_HZ, 100 on Linux). */
  private static long cpuTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may contain spaces.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A field of /proc/<pid>/status in KiB (VmRSS, RssAnon, ...), 0 when unreadable. */
  private static long status(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }

  private static String scrape(HttpClient plain, int metricsPort) throws Exception {
    return plain
        .send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + metricsPort + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
        .body();
  }

  /** The sum of the samples of the series matching {@code seriesPattern}. */
  private static double sum(String metrics, String seriesPattern) {
    Matcher m = Pattern.compile("(?m)^" + seriesPattern + " ([0-9.eE+-]+)$").matcher(metrics);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(m.groupCount()));
    }
    return sum;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static double median(List<RunResult> runs, ToDoubleFunction<RunResult> figure) {
    double[] values = runs.stream().mapToDouble(figure).sorted().toArray();
    if (values.length == 0) {
      return Double.NaN;
    }
    int mid = values.length / 2;
    return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("webhook-bench: could not remove " + dir + ": " + e);
    }
  }

  private static String single(Map<String, List<String>> options, String name, String fallback) {
    List<String> values = options.getOrDefault(name, List.of());
    if (values.size() > 1) {
      throw new IllegalArgumentException("--" + name + " given " + values.size() + " times");
    }
    return values.isEmpty() ? fallback : values.get(0);
  }

  private static Map<String, List<String>> options(String[] args) {
    Map<String, List<String>> options = new LinkedHashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      int eq = arg.indexOf('=');
      options
          .computeIfAbsent(arg.substring(2, eq), k -> new ArrayList<>())
          .add(arg.substring(eq + 1));
    }
    return options;
  }
}

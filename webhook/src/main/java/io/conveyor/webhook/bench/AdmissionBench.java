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
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Admission latency and memory at a fixed request rate over HTTPS.
 *
 * <p>Starts the webhook as a separate JVM (TLS in memory, no API server), waits until it is ready,
 * then sends AdmissionReviews of a typical opted-in pod at a fixed rate (open loop: latency is
 * measured from when each request was due, so a stall is not hidden by sending less), first for a
 * warm-up, then for the measured period. Memory is the server process's VmRSS (the largest seen
 * while measuring) and its heap in use, read from its own metrics at the end.
 *
 * <pre>java -cp webhook/target/conveyor-webhook.jar io.conveyor.webhook.bench.AdmissionBench
 *     [--rate=200] [--warmup=10] [--duration=20] [--server-jvm-opts="-Xmx128m -XX:+UseSerialGC"]
 * </pre>
 *
 * <p>By default the server runs with {@code webhook/jvm.options} (run from the repository root),
 * the options the image ships with; {@code --server-jvm-opts} replaces them, e.g. to compare.
 */
public final class AdmissionBench {

  /** The image's JVM options file, relative to the repository root. */
  static final Path JVM_OPTIONS_FILE = Path.of("webhook", "jvm.options");

  private AdmissionBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = options(args);
    int rate = Integer.parseInt(options.getOrDefault("rate", "200"));
    int warmupSeconds = Integer.parseInt(options.getOrDefault("warmup", "10"));
    int durationSeconds = Integer.parseInt(options.getOrDefault("duration", "20"));
    String jvmOpts = options.get("server-jvm-opts");
    if (jvmOpts == null) {
      if (!Files.isRegularFile(JVM_OPTIONS_FILE)) {
        System.err.println(
            "webhook-bench: no "
                + JVM_OPTIONS_FILE
                + " here: run from the repository root, or give --server-jvm-opts");
        System.exit(2);
        return;
      }
      jvmOpts = "@" + JVM_OPTIONS_FILE.toAbsolutePath();
    }

    Path work = Files.createTempDirectory("webhook-bench");
    Path caFile = work.resolve("ca.crt");
    int httpsPort = freePort();
    int metricsPort = freePort();
    Process server =
        startServer(jvmOpts, httpsPort, metricsPort, caFile, work.resolve("server.log"));
    int exitCode = 0;
    try {
      HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      awaitReady(plain, metricsPort, caFile, server);
      HttpClient client = httpsClient(PemCodec.parseCertificates(Files.readString(caFile)));
      String template = reviewTemplate();
      URI uri = URI.create("https://localhost:" + httpsPort + "/mutate");

      Recorder recorder = new Recorder(3);
      AtomicLong sent = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      Map<String, Long> errorKinds = new ConcurrentHashMap<>();
      long intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
      long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
      long measureFrom = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
      long end = measureFrom + TimeUnit.SECONDS.toNanos(durationSeconds);
      AtomicLong tick = new AtomicLong();

      ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
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
                    });
          },
          start - System.nanoTime(),
          intervalNanos,
          TimeUnit.NANOSECONDS);

      long pid = server.pid();
      long maxRssKib = 0;
      while (System.nanoTime() < end + TimeUnit.SECONDS.toNanos(2)) {
        if (System.nanoTime() >= measureFrom) {
          maxRssKib = Math.max(maxRssKib, rssKib(pid));
        }
        Thread.sleep(500);
      }
      ticker.shutdownNow();
      long finalRssKib = rssKib(pid);
      String serverMetrics = scrape(plain, metricsPort);
      double heapUsedBytes =
          sum(serverMetrics, "jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\}");
      double rejected =
          sum(serverMetrics, "conveyor_webhook_connections_rejected_total(\\{[^}]*\\})?");
      double handledSeconds =
          sum(
              serverMetrics,
              "conveyor_webhook_request_duration_seconds_sum\\{[^}]*outcome=\"injected\"[^}]*\\}");
      double handled =
          sum(
              serverMetrics,
              "conveyor_webhook_request_duration_seconds_count\\{[^}]*outcome=\"injected\"[^}]*\\}");
      double handledMax =
          sum(
              serverMetrics,
              "conveyor_webhook_request_duration_seconds_max\\{[^}]*outcome=\"injected\"[^}]*\\}");

      Histogram histogram = recorder.getIntervalHistogram();
      System.out.printf(
          Locale.ROOT,
          "webhook-bench: rate=%d p50_ms=%.2f p99_ms=%.2f rss_mib=%d heap_used_mib=%d%n",
          rate,
          histogram.getValueAtPercentile(50) / 1000.0,
          histogram.getValueAtPercentile(99) / 1000.0,
          Math.round(maxRssKib / 1024.0),
          Math.round(heapUsedBytes / (1024 * 1024)));
      System.out.printf(
          Locale.ROOT,
          "webhook-bench: details: measured=%ds warmup=%ds sent=%d answered=%d errors=%d %s p99.9_ms=%.2f max_ms=%.2f"
              + " server_rejected_connections=%d server_handler_mean_ms=%.2f server_handler_max_recent_ms=%.2f rss_end_mib=%d loadavg=\"%s\" server_pid=%d server_jvm_opts=\"%s\" (server is a separate process;"
              + " rss is its VmRSS, the largest seen while measuring)%n",
          durationSeconds,
          warmupSeconds,
          sent.get(),
          histogram.getTotalCount(),
          errors.get(),
          errorKinds,
          histogram.getValueAtPercentile(99.9) / 1000.0,
          histogram.getMaxValue() / 1000.0,
          Math.round(rejected),
          handled == 0 ? 0.0 : handledSeconds * 1000 / handled,
          handledMax * 1000,
          Math.round(finalRssKib / 1024.0),
          loadAverage(),
          pid,
          jvmOpts);
      // Errors or unanswered reviews make the figures meaningless: fail the run visibly.
      long unanswered = sent.get() - histogram.getTotalCount();
      if (errors.get() > 0 || unanswered > 0) {
        System.err.printf(
            Locale.ROOT,
            "webhook-bench: FAILED: %d errors %s and %d reviews unanswered of %d sent%n",
            errors.get(),
            errorKinds,
            unanswered,
            sent.get());
        exitCode = 1;
      }
    } finally {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
    System.exit(exitCode);
  }

  private static Process startServer(
      String jvmOpts, int httpsPort, int metricsPort, Path caFile, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    command.add(java);
    for (String opt : jvmOpts.trim().split("\\s+")) {
      if (!opt.isEmpty()) {
        command.add(opt);
      }
    }
    command.add("-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(WebhookMain.class.getName());
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.put("TLS_STORE", "memory");
    env.put("TLS_CA_OUTPUT_FILE", caFile.toString());
    env.put("HTTPS_PORT", Integer.toString(httpsPort));
    env.put("METRICS_PORT", Integer.toString(metricsPort));
    env.put("SHUTDOWN_DELAY_SECS", "0");
    env.put("LOG_LEVEL", "WARN");
    builder.redirectErrorStream(true);
    builder.redirectOutput(log.toFile());
    return builder.start();
  }

  private static void awaitReady(HttpClient plain, int metricsPort, Path caFile, Process server)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException("the webhook exited with " + server.exitValue());
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

  private static HttpClient httpsClient(List<X509Certificate> trusted)
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
    ExecutorService executor = Executors.newFixedThreadPool(4, DaemonThreads.named("bench-client"));
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

  private static long rssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
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

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      int eq = arg.indexOf('=');
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    return options;
  }
}

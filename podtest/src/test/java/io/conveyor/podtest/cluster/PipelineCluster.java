package io.conveyor.podtest.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.KubernetesClients;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.podtest.PodFixtures;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.run.PodHost;
import io.conveyor.podtest.run.RunSettings;
import io.conveyor.podtest.run.RunningPod;
import io.conveyor.podtest.spec.FakeServiceAccountToken;
import io.conveyor.router.core.RouterSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cluster of the pods tier's pipeline scenarios: the fabric8 mock API server with the CRDs, the
 * operator as in a cluster (its router, its CA, enrolment by TokenReview) in this JVM listening on
 * the pod bridge's host side, and the runner's node. Pods are the examples Deployments' pods as the
 * API server stores them after the webhook's real mutation; each runs with the sidecar and examples
 * images that {@code ./conveyor images} built.
 *
 * <p>What differs from a cluster: the API server is fabric8's mock, whose TokenReview answer is
 * registered per pod here for the runner's unsigned token; CLUSTER_ENDPOINT is the bridge's IP and
 * port (no cluster DNS, no Service); the kubelet is the runner.
 */
public final class PipelineCluster implements AutoCloseable {

  public static final String SIDECAR = "conveyor-sidecar";
  private static final Duration START = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicLong POD_SUFFIX = new AtomicLong(System.nanoTime() & 0xfffff);

  private final MockApiServer api;
  private final PodHost host;
  private final KubernetesClient operatorClient;
  private final ConveyorOperator operator;

  private PipelineCluster(
      MockApiServer api, PodHost host, KubernetesClient operatorClient, ConveyorOperator operator) {
    this.api = api;
    this.host = host;
    this.operatorClient = operatorClient;
    this.operator = operator;
  }

  /**
   * Starts the API server, the node (with both images unpacked) and the operator. Fails (or skips,
   * as {@link ProjectImages} says) where the tier cannot run.
   */
  public static PipelineCluster start(RunSettings settings) throws IOException {
    PodsTier.require();
    Path sidecarImage = ProjectImages.require("conveyor-sidecar");
    Path examplesImage = ProjectImages.require("conveyor-examples");
    MockApiServer api = new MockApiServer(Path.of("..", "crds"));
    PodHost host = null;
    KubernetesClient operatorClient = null;
    ConveyorOperator operator = null;
    try {
      host = PodHost.start(settings);
      unpackSideBySide(
          host,
          Map.of(
              ProjectImages.name("conveyor-sidecar"),
              sidecarImage,
              ProjectImages.name("conveyor-examples"),
              examplesImage));
      operatorClient = KubernetesClients.create(api.client().getConfiguration());
      String bind = host.hostAddress();
      operator =
          new ConveyorOperator(
                  operatorConfig(bind),
                  operatorClient,
                  new SimpleMeterRegistry(),
                  Clock.systemUTC(),
                  () -> NettyServerBuilder.forAddress(new InetSocketAddress(bind, 0)))
              .start();
      await().atMost(START).until(operator::serving);
      return new PipelineCluster(api, host, operatorClient, operator);
    } catch (IOException | RuntimeException | Error e) {
      if (operator != null) {
        operator.close(Duration.ofSeconds(10));
      }
      if (operatorClient != null) {
        operatorClient.close();
      }
      if (host != null) {
        host.close();
      }
      api.close();
      throw e;
    }
  }

  /**
   * Unpacks the images on the node side by side, each on a thread of its own: a tarball takes
   * several seconds, mostly decompressing, which one core does per image.
   */
  private static void unpackSideBySide(PodHost host, Map<String, Path> images) throws IOException {
    ExecutorService threads = Executors.newFixedThreadPool(images.size());
    try {
      List<Future<?>> unpacking = new ArrayList<>();
      images.forEach(
          (name, tarball) -> unpacking.add(threads.submit(() -> host.image(name, tarball))));
      // Every unpack ends before a failure is thrown: the caller then removes the node's folders,
      // which an unpack still running would write into.
      Throwable first = null;
      for (Future<?> f : unpacking) {
        try {
          f.get();
        } catch (ExecutionException e) {
          first = first == null ? e.getCause() : first;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while unpacking the images", e);
        }
      }
      if (first instanceof IOException io) {
        throw io;
      }
      if (first instanceof RuntimeException r) {
        throw r;
      }
      if (first != null) {
        throw new IllegalStateException(first);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  public MockApiServer api() {
    return api;
  }

  public PodHost host() {
    return host;
  }

  public ConveyorOperator operator() {
    return operator;
  }

  /** A namespace of its own for one scenario; closing it removes the scenario's pods. */
  public Scenario scenario(String namespace) {
    return new Scenario(namespace);
  }

  /**
   * The demo source's closing line ({@code demo-source: done ...} or {@code incomplete}), once it
   * printed one.
   */
  public static String awaitSourceOutcome(RunningPod source, Duration atMost) {
    String log =
        await()
            .atMost(atMost)
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> source.log("app"),
                l -> l.contains("demo-source: done") || l.contains("demo-source: incomplete"));
    return log.lines()
        .filter(l -> l.startsWith("demo-source: done") || l.startsWith("demo-source: incomplete"))
        .findFirst()
        .orElseThrow();
  }

  /** The demo sink's {@code /stats}, asked over the pod IP, for {@code sent} records per source. */
  public static JsonNode sinkStats(RunningPod sink, long sent, int filterPeriod) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + sink.ip()
                            + ":9103/stats?sent="
                            + sent
                            + "&source=demo-source&filter_period="
                            + filterPeriod))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  /**
   * One scenario's namespace in the shared cluster: its Pipelines and pods. Closing it removes its
   * pods from the node (their containers, files and network namespaces).
   */
  public final class Scenario implements AutoCloseable {

    private final String namespace;
    private final List<RunningPod> pods = new ArrayList<>();

    private Scenario(String namespace) {
      this.namespace = namespace;
    }

    /** Creates the Pipeline of a YAML resource in this scenario's namespace. */
    public void pipeline(String resource) throws IOException {
      try (InputStream in = PipelineCluster.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalArgumentException("no resource " + resource);
        }
        create(in);
      }
    }

    /**
     * Creates the Pipeline of a YAML file (e.g. the examples' own) in this scenario's namespace.
     */
    public void pipeline(Path file) throws IOException {
      try (InputStream in = Files.newInputStream(file)) {
        create(in);
      }
    }

    private void create(InputStream yaml) {
      for (HasMetadata item : api.client().load(yaml).items()) {
        item.getMetadata().setNamespace(namespace);
        api.client().resource(item).create();
      }
    }

    /**
     * The pod of a Deployment resource ({@code /deploy/demo-sink.yaml}) as the API server stores it
     * after admission, run on the node; returns once its native sidecar started and the pod is
     * reported Running. {@code appEnv} sets variables of the app container in the Deployment's
     * template (the user's own settings, before admission), e.g. RECORDS and RATE.
     */
    public RunningPod run(String deployment, Map<String, String> appEnv) throws IOException {
      return run(deployment, appEnv, Map.of());
    }

    /**
     * As {@link #run(String, Map)}, with {@code annotations} added to the pod template's (the
     * user's own, before admission: e.g. the injector's overrides).
     */
    public RunningPod run(
        String deployment, Map<String, String> appEnv, Map<String, String> annotations)
        throws IOException {
      Pod template = PodFixtures.replicaSetPod(deployment);
      appEnv.forEach((name, value) -> setEnv(template, "app", name, value));
      if (!annotations.isEmpty()) {
        Map<String, String> all = new HashMap<>();
        Optional.ofNullable(template.getMetadata().getAnnotations()).ifPresent(all::putAll);
        all.putAll(annotations);
        template.getMetadata().setAnnotations(all);
      }
      Pod admitted = admit(template);
      ConfigMap bundle = bundle();
      RunningPod running =
          host.run(admitted, namespace, Map.of(bundle.getMetadata().getName(), bundle.getData()));
      synchronized (this) {
        pods.add(running);
      }
      reportRunning(running);
      return running;
    }

    private static void setEnv(Pod pod, String container, String name, String value) {
      var c =
          pod.getSpec().getContainers().stream()
              .filter(x -> x.getName().equals(container))
              .findFirst()
              .orElseThrow(() -> new IllegalArgumentException("no container " + container));
      List<EnvVar> env = new ArrayList<>(c.getEnv() == null ? List.of() : c.getEnv());
      env.removeIf(e -> e.getName().equals(name));
      env.add(new EnvVar(name, value, null));
      c.setEnv(env);
    }

    /**
     * The pod after the webhook's mutation, named from generateName and given a uid as the API
     * server does, stored; the review of its projected token is registered with the API server (the
     * runner's token names the pod, so it is known before the pod runs).
     */
    private Pod admit(Pod template) {
      // No cluster DNS: the webhook's own setting points the sidecars at the router's address.
      Map<String, String> webhookEnv =
          Map.of(
              "CLUSTER_ENDPOINT", host.hostAddress() + ":" + operator.routerPort().orElseThrow());
      Pod mutated = PodFixtures.mutated(template, namespace, webhookEnv);
      String name =
          mutated.getMetadata().getGenerateName()
              + Long.toString(POD_SUFFIX.incrementAndGet() & 0xfffff, 36);
      mutated.getMetadata().setName(name);
      mutated.getMetadata().setNamespace(namespace);
      mutated.getMetadata().setUid(UUID.randomUUID().toString());
      Pod stored = api.client().pods().inNamespace(namespace).resource(mutated).create();
      String account = stored.getSpec().getServiceAccountName();
      String uid = stored.getMetadata().getUid();
      api.bindToken(
          new FakeServiceAccountToken(namespace, account, name, uid, "conveyor.etl").jwt(),
          namespace,
          account,
          name,
          uid);
      return new PodBuilder(mutated)
          .editMetadata()
          .withUid(uid)
          .withGenerateName(null)
          .endMetadata()
          .build();
    }

    /** The trust bundle is the operator's: published from its CA into the pods' namespace. */
    private ConfigMap bundle() {
      return await()
          .atMost(START)
          .until(
              () ->
                  api.client()
                      .configMaps()
                      .inNamespace(namespace)
                      .withName("conveyor-trust-bundle")
                      .get(),
              cm -> cm != null && cm.getData() != null && cm.getData().containsKey("ca.crt"));
    }

    /** What the kubelet reports once the pod runs: its phase and IP. */
    private void reportRunning(RunningPod running) {
      Pod stored = api.client().pods().inNamespace(namespace).withName(running.name()).get();
      stored.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP(running.ip()).build());
      api.client().pods().inNamespace(namespace).resource(stored).updateStatus();
    }

    /** The identity a pod's sidecar certificate names. */
    public String identity(RunningPod pod, String serviceAccount) {
      return "spiffe://conveyor.etl/ns/"
          + namespace
          + "/pod/"
          + pod.name()
          + "/sa/"
          + serviceAccount;
    }

    /**
     * What every pod of the run said (events, the last lines of each container's log): the first
     * thing to read when a scenario fails.
     */
    public synchronized String diagnostics() {
      StringBuilder out = new StringBuilder();
      for (RunningPod pod : pods) {
        out.append("\n--- pod ").append(pod.name()).append(" events: ").append(pod.events());
        for (String container : pod.plan().containers().stream().map(c -> c.name()).toList()) {
          String log = pod.log(container);
          out.append("\n--- ")
              .append(pod.name())
              .append('/')
              .append(container)
              .append(" (last 4000 chars):\n")
              .append(log.substring(Math.max(0, log.length() - 4000)));
        }
      }
      return out.toString();
    }

    /** Runs a scenario's checks; a failure carries the pods' {@link #diagnostics()}. */
    public void check(ThrowingRunnable checks) throws Exception {
      try {
        checks.run();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + diagnostics(), e);
      }
    }

    /** A scenario's checks. */
    @FunctionalInterface
    public interface ThrowingRunnable {
      void run() throws Exception;
    }

    @Override
    public void close() {
      List<RunningPod> running;
      synchronized (this) {
        running = new ArrayList<>(pods);
        pods.clear();
      }
      for (int i = running.size() - 1; i >= 0; i--) {
        host.remove(running.get(i));
      }
    }
  }

  @Override
  public void close() {
    try {
      operator.close(Duration.ofSeconds(10));
    } finally {
      try {
        operatorClient.close();
        host.close();
      } finally {
        api.close();
      }
    }
  }

  private static OperatorConfig operatorConfig(String bindAddress) {
    return new OperatorConfig(
        "conveyor-operator-0",
        "conveyor-system",
        "conveyor-operator-leader",
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        bindAddress,
        0,
        0,
        Set.of(),
        4,
        Duration.ZERO,
        Duration.ofMinutes(5),
        RouterSettings.defaults(),
        true);
  }
}

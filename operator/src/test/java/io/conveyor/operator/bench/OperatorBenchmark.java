package io.conveyor.operator.bench;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.KubernetesClients;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.ApiRequest;
import io.conveyor.operator.testing.MockCluster;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.Services;
import io.conveyor.operator.testing.TestOperators;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.pipeline.PipelineSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the operator copes with 500 injected pods on the fabric8 CRUD mock server (one JVM,
 * loopback). Reports figures; exits non-zero, saying why on stderr, when a wait times out or the
 * run met errors (failed sidecar calls, failed reconciles or leader terms), since its figures would
 * then not describe the normal case:
 *
 * <ol>
 *   <li>time from the first of 500 labelled pods being created (operator running) until all 500
 *       have a ConveyorSidecar with a status, and the API writes it made per pod;
 *   <li>the same for a leader that starts with 500 pods already there;
 *   <li>time until 500 sidecars registering through the real gRPC coordinator make their objects
 *       Ready, and the writes that took;
 *   <li>API writes and reconciles while all 500 sidecars keep heartbeating every 5 s and nothing
 *       changes (expected: none).
 * </ol>
 *
 * Run: {@code mvn -B -q -pl operator test-compile exec:java -Pbench} (see operator/README.md).
 */
public final class OperatorBenchmark {

  private static final int PODS = Integer.getInteger("bench.pods", 500);
  private static final int PIPELINES = 10;

  /** The sidecars' default HEARTBEAT_INTERVAL_SECS. */
  private static final int HEARTBEAT_SECONDS = 5;

  private static final Duration QUIET_WINDOW =
      Duration.ofSeconds(Integer.getInteger("bench.quietSeconds", 20));

  /** Longest wait for all objects to reach a state; a slower run is a failure, not a figure. */
  private static final Duration OBJECTS_TIMEOUT =
      Duration.ofSeconds(Integer.getInteger("bench.timeoutSeconds", 180));

  /** Longest wait for one round of calls (all registrations, or one heartbeat of each sidecar). */
  private static final Duration CALLS_TIMEOUT = Duration.ofSeconds(60);

  private static final String NS = "bench";
  private static final Logger log = LoggerFactory.getLogger(OperatorBenchmark.class);

  /** Thrown when a wait of the benchmark ran out: the run cannot go on. */
  private static final class BenchTimeout extends Exception {
    BenchTimeout(String message) {
      super(message);
    }
  }

  private OperatorBenchmark() {}

  public static void main(String[] args) {
    System.exit(runAndJudge());
  }

  /** Runs the benchmark; 0 when it ran to the end without errors, else 1 with the reason. */
  static int runAndJudge() {
    BenchErrors errors = new BenchErrors();
    try {
      run(errors);
    } catch (BenchTimeout e) {
      System.err.println("operator benchmark FAILED: timed out " + e.getMessage());
      return 1;
    } catch (Exception e) {
      log.error("operator benchmark failed", e);
      System.err.println("operator benchmark FAILED: " + BenchErrors.describe(e));
      return 1;
    }
    if (errors.total() > 0) {
      System.err.printf(
          "operator benchmark FAILED: %d error(s) during the run: %s%n",
          errors.total(), errors.summary());
      return 1;
    }
    return 0;
  }

  private static void run(BenchErrors errors) throws Exception {
    System.out.printf(
        "operator benchmark: %d pods, %d pipelines, %d CPUs, Java %s%n",
        PODS,
        PIPELINES,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    try (MockCluster cluster = new MockCluster()) {
      liveCreation(cluster, errors);
    }
    try (MockCluster cluster = new MockCluster()) {
      coldStart(cluster, errors);
    }
  }

  /** Scenarios 1, 3 and 4: the operator runs, pods arrive, sidecars register and heartbeat. */
  private static void liveCreation(MockCluster cluster, BenchErrors errors) throws Exception {
    KubernetesClient client = cluster.client();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ConveyorOperator operator =
        TestOperators.start(cluster, config("bench-live"), Clock.systemUTC(), meters);
    awaitTrue("leader serving", Duration.ofSeconds(30), operator::serving);
    for (int p = 0; p < PIPELINES; p++) {
      client.resource(pipeline(p)).create();
    }
    awaitTrue(
        "pipelines have a status",
        Duration.ofSeconds(30),
        () ->
            client.resources(Pipeline.class).inNamespace(NS).list().getItems().stream()
                .allMatch(p -> p.getStatus() != null));
    Thread.sleep(500);
    cluster.drainRequests();

    long start = System.nanoTime();
    List<Pod> pods = createPods(client);
    long created = System.nanoTime();
    awaitObjects(
        client,
        "1. " + PODS + " pods created while the operator runs",
        cs -> cs.getStatus() != null);
    long done = System.nanoTime();
    Map<String, Integer> writes = operatorWrites(cluster.drainRequests());
    System.out.printf(
        "1. pods created while leading: creating %d pods (16 client threads) took %d ms; all %d"
            + " ConveyorSidecars had a status %d ms after the first pod was created, %d ms after the"
            + " last%n   API writes by the operator: %s = %.2f per pod%n",
        PODS,
        ms(created - start),
        PODS,
        ms(done - start),
        ms(done - created),
        writes,
        total(writes) / (double) PODS);

    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", operator.routerPort().orElseThrow())
            .usePlaintext()
            .build();
    List<SimulatedSidecar> sidecars = new ArrayList<>();
    for (int i = 0; i < PODS; i++) {
      sidecars.add(
          new SimulatedSidecar("sc-" + i, pods.get(i), channel, service(i))
              .withHeartbeatInterval(HEARTBEAT_SECONDS));
    }
    ExecutorService pool = Executors.newFixedThreadPool(32);
    // Every sidecar heartbeats every HEARTBEAT_SECONDS, from its registration on, as real ones do.
    AtomicLong heartbeats = new AtomicLong();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    ticker.scheduleWithFixedDelay(
        () ->
            runAll(
                pool,
                sidecars,
                "heartbeat",
                errors,
                s -> {
                  if (s.registrations() > 0) {
                    s.heartbeat();
                    heartbeats.incrementAndGet();
                  }
                }),
        HEARTBEAT_SECONDS,
        HEARTBEAT_SECONDS,
        TimeUnit.SECONDS);
    long registerStart = System.nanoTime();
    runAll(pool, sidecars, "registration", errors, SimulatedSidecar::register);
    long registered = System.nanoTime();
    awaitObjects(
        client,
        "3. " + PODS + " sidecars registered",
        cs -> cs.getStatus() != null && cs.getStatus().getPhase() == SidecarPhase.Ready);
    long ready = System.nanoTime();
    awaitTrue(
        "pipelines running",
        OBJECTS_TIMEOUT,
        () ->
            client.resources(Pipeline.class).inNamespace(NS).list().getItems().stream()
                .allMatch(
                    p ->
                        p.getStatus() != null
                            && p.getStatus().getPhase() == PipelinePhase.Running));
    Thread.sleep(1000); // let the last plan changes settle before counting
    Map<String, Integer> registerWrites = operatorWrites(cluster.drainRequests());
    System.out.printf(
        "3. %d sidecars registering through gRPC: registrations took %d ms; all Ready after %d ms%n"
            + "   API writes by the operator: %s = %.2f per pod (ConveyorSidecar and Pipeline statuses)%n",
        PODS,
        ms(registered - registerStart),
        ms(ready - registerStart),
        registerWrites,
        total(registerWrites) / (double) PODS);

    long reconcilesBefore = reconciles(meters);
    long heartbeatsBefore = heartbeats.get();
    long heartbeatErrorsBefore = errors.count("heartbeat");
    Thread.sleep(QUIET_WINDOW.toMillis());
    long heartbeatsDuring = heartbeats.get() - heartbeatsBefore;
    long heartbeatErrorsDuring = errors.count("heartbeat") - heartbeatErrorsBefore;
    Map<String, Integer> heartbeatWrites = operatorWrites(cluster.drainRequests());
    long reconcilesDuring = reconciles(meters) - reconcilesBefore;
    System.out.printf(
        "4. %d s of steady heartbeats (%d sidecars every %d s, %d heartbeats, %d failed): API"
            + " writes by the operator %s (total %d), reconciles %d%n",
        QUIET_WINDOW.toSeconds(),
        PODS,
        HEARTBEAT_SECONDS,
        heartbeatsDuring,
        heartbeatErrorsDuring,
        heartbeatWrites,
        total(heartbeatWrites),
        reconcilesDuring);

    ticker.shutdownNow();
    pool.shutdownNow();
    channel.shutdownNow();
    operator.close(Duration.ofSeconds(20));
    countOperatorErrors(meters, errors);
  }

  /** Scenario 2: a leader starting with 500 injected pods already there. */
  private static void coldStart(MockCluster cluster, BenchErrors errors) throws Exception {
    KubernetesClient client = cluster.client();
    createPods(client);
    cluster.drainRequests();
    long start = System.nanoTime();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ConveyorOperator operator =
        TestOperators.start(cluster, config("bench-cold"), Clock.systemUTC(), meters);
    awaitObjects(client, "2. leader starting with " + PODS + " pods", cs -> cs.getStatus() != null);
    long done = System.nanoTime();
    Map<String, Integer> writes = operatorWrites(cluster.drainRequests());
    System.out.printf(
        "2. leader starting with %d pods already there: all ConveyorSidecars with status %d ms after"
            + " start (lease acquisition and cache sync included)%n   API writes by the operator: %s"
            + " = %.2f per pod%n",
        PODS, ms(done - start), writes, total(writes) / (double) PODS);
    operator.close(Duration.ofSeconds(20));
    countOperatorErrors(meters, errors);
  }

  /** Reconciles that failed and leader terms that did not start, as the operator counted them. */
  private static void countOperatorErrors(SimpleMeterRegistry meters, BenchErrors errors) {
    meters
        .find("conveyor.operator.reconcile")
        .tag("outcome", "error")
        .timers()
        .forEach(
            t ->
                errors.add(
                    "failed reconcile",
                    t.count(),
                    "controller " + t.getId().getTag("controller") + " (see the log)"));
    meters
        .find("conveyor.operator.leader.term.failures")
        .counters()
        .forEach(c -> errors.add("failed leader term", (long) c.count(), "see the log"));
  }

  // ------------------------------------------------------------------ helpers

  private static OperatorConfig config(String identity) {
    OperatorConfig test = TestOperators.config(identity, Duration.ZERO);
    return new OperatorConfig(
        test.identity(),
        test.leaseNamespace(),
        test.leaseName(),
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        test.bindAddress(),
        0,
        0,
        Set.of(),
        10,
        Duration.ZERO,
        Duration.ofMinutes(5),
        RouterSettings.defaults(),
        false);
  }

  private static List<Pod> createPods(KubernetesClient client) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Pod>> futures = new ArrayList<>();
    for (int i = 0; i < PODS; i++) {
      int index = i;
      futures.add(
          pool.submit(
              () -> {
                Pod pod = Pods.injected(NS, "worker-" + index);
                pod.setStatus(
                    Pods.running("10.9." + (index / 250) + "." + (index % 250 + 1), true));
                return client.resource(pod).create();
              }));
    }
    List<Pod> pods = new ArrayList<>();
    long deadline = System.nanoTime() + CALLS_TIMEOUT.toNanos();
    for (Future<Pod> f : futures) {
      try {
        pods.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (TimeoutException e) {
        pool.shutdownNow();
        throw new BenchTimeout(
            "after " + CALLS_TIMEOUT.toSeconds() + " s creating " + PODS + " pods");
      }
    }
    pool.shutdown();
    return pods;
  }

  private static DiscoveredService service(int i) {
    int pipeline = i % PIPELINES;
    return switch ((i / PIPELINES) % 3) {
      case 0 -> Services.source("source-" + pipeline);
      case 1 -> Services.transform("transform-" + pipeline);
      default -> Services.sink("sink-" + pipeline);
    };
  }

  private static Pipeline pipeline(int p) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(
        new ObjectMetaBuilder().withNamespace(NS).withName("pipeline-" + p).build());
    pipeline.setSpec(new PipelineSpec("source-" + p, List.of("transform-" + p), "sink-" + p, null));
    return pipeline;
  }

  private static void awaitObjects(
      KubernetesClient client, String what, Predicate<ConveyorSidecar> done)
      throws InterruptedException, BenchTimeout {
    awaitTrue(
        what,
        OBJECTS_TIMEOUT,
        () -> {
          List<ConveyorSidecar> items =
              client.resources(ConveyorSidecar.class).inNamespace(NS).list().getItems();
          return items.size() == PODS && items.stream().allMatch(done);
        });
  }

  private static void awaitTrue(
      String what, Duration timeout, java.util.function.BooleanSupplier condition)
      throws InterruptedException, BenchTimeout {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new BenchTimeout("after " + timeout.toSeconds() + " s waiting for: " + what);
      }
      Thread.sleep(50);
    }
  }

  /**
   * Makes {@code call} for every sidecar on {@code pool}; each failure is counted as an error of
   * {@code kind}, and so is a round that does not end within {@link #CALLS_TIMEOUT}.
   */
  private static void runAll(
      ExecutorService pool,
      List<SimulatedSidecar> sidecars,
      String kind,
      BenchErrors errors,
      java.util.function.Consumer<SimulatedSidecar> call) {
    List<Future<?>> futures = new ArrayList<>();
    for (SimulatedSidecar sidecar : sidecars) {
      futures.add(pool.submit(() -> call.accept(sidecar)));
    }
    long deadline = System.nanoTime() + CALLS_TIMEOUT.toNanos();
    for (Future<?> f : futures) {
      try {
        f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        errors.count(kind, e.getCause());
      } catch (TimeoutException e) {
        errors.add(kind, 1, "no answer within " + CALLS_TIMEOUT.toSeconds() + " s");
        f.cancel(true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the ticker is being stopped
        return;
      } catch (CancellationException e) {
        return; // the pool is being stopped
      }
    }
  }

  /** Writes the operator made, by "verb resource", leader election excluded. */
  private static Map<String, Integer> operatorWrites(List<RecordedRequest> requests) {
    Map<String, Integer> writes = new TreeMap<>();
    for (RecordedRequest request : requests) {
      String agent = request.getHeader("User-Agent");
      if (agent == null
          || !agent.startsWith(KubernetesClients.USER_AGENT)
          || request.getMethod().equals("GET")) {
        continue;
      }
      ApiRequest.parse(request.getMethod(), request.getPath())
          .filter(r -> !r.resource().equals("leases"))
          .ifPresent(r -> writes.merge(r.verb() + " " + r.ruleResource(), 1, Integer::sum));
    }
    return writes;
  }

  private static long reconciles(SimpleMeterRegistry meters) {
    return meters.find("conveyor.operator.reconcile").timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }

  private static int total(Map<String, Integer> writes) {
    return writes.values().stream().mapToInt(Integer::intValue).sum();
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }
}

package io.conveyor.examples.bench;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.examples.local.Component;
import io.conveyor.examples.local.Launcher;
import io.conveyor.examples.local.LocalCluster;
import io.conveyor.examples.local.ManagedProcess;
import io.conveyor.examples.local.PrometheusText;
import io.conveyor.proto.delta.AssignmentPatch;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * A registration storm against the standalone router, over real gRPC: N sidecars register (8 at a
 * time), each opens its WatchAssignments stream, and the clock stops when every sidecar holds its
 * complete routing plan (for the stages it runs and the stage after each, in a source → transform →
 * sink pipeline with a third of the sidecars hosting each stage, exactly the subset of the replicas
 * that {@link RendezvousSubset#choose} gives it over the whole fleet, computed here before the
 * clock starts). This is what a router restart or a leader change looks like at scale: every
 * registration changes the targets of the participants next to it.
 *
 * <p>Every storm meets a router process of its own, started for it from the router's jar with its
 * JVM options file ({@code router/jvm.options}, the image's), so each storm is met cold, as by a
 * restarted router or a new leader, and the router's CPU is its own, apart from this process's
 * simulated sidecars. It runs in plaintext: the storm measures the control plane, not the
 * handshakes.
 *
 * <p>Each simulated sidecar watches with {@code accepts_deltas} and applies what arrives as the
 * real one does: a full set replaces what it holds, a delta applies on top of exactly its base
 * version. A delta that does not fit counts as an error (the router has no reason to send one here:
 * nothing is lost, and the sidecars heartbeat only once the storm is over).
 *
 * <p>Reported per storm: time to register and to converge, per sidecar, the bytes pushed (and per
 * registration: pushed bytes over sidecars, which stays flat when the cost of a registration does
 * not grow with the fleet), the router process's CPU during the storm and the part of it its JIT
 * compilers took, this process's CPU (the simulated sidecars), and how many times the router
 * re-planned (its {@code conveyor_router_replans_total}). The ratio {@code scaling} is the
 * per-sidecar time at the largest size over that at the smallest, measured in the same run: 1.0
 * means the router's cost per sidecar does not grow with the fleet. After a storm converged, the
 * fleet heartbeats {@code BENCH_ROUTER_HEARTBEAT_ROUNDS} times (default 5; every sidecar once per
 * round, nothing changed), and the router's CPU per heartbeat of each round is printed: what the
 * converged fleet costs it, the last round once its JIT has compiled that path.
 *
 * <p>Run: {@code ./conveyor bench router}. {@code BENCH_ROUTER_SIDECARS} (default {@code
 * 250,500,1000}) sets the sizes; {@code BENCH_ROUTER_RUNS} (default 1) the storms per size,
 * reported as medians; {@code BENCH_ROUTER_TIMEOUT_SECS} (default 300) bounds each; {@code
 * BENCH_ROUTER_SUBSET_SIZE} (default the router's, {@value RendezvousSubset#DEFAULT_SIZE}) sets the
 * routers' subset size. {@code BENCH_ROUTER_VARIANT_FLAGS} (JVM options, blank by default) adds a
 * second router kind, started with those options after its options file: every storm is then run
 * against both, alternating, base first, and the medians of both are printed side by side.
 *
 * <p>Exits 1, saying why on stderr, when a storm does not converge in time or counts errors (a
 * registration refused or failed, a watch stream ended by the router): a run that did not measure
 * what it claims must not look like a result.
 */
public final class RouterScaleBench {

  private static final String[] STAGES = {"orders-source", "mask-pii", "warehouse"};
  private static final int REGISTERING_THREADS = 8;

  /**
   * The warm-up storm's size (at most the first size): this process's simulated sidecars share the
   * machine's cores with the router, so their JIT must be done before a storm is measured (with
   * 100, the first measured storm still cost them twice the CPU of the next).
   */
  private static final int WARM_UP_SIDECARS = 1000;

  /**
   * The pipeline every storm's router serves, from a folder of one file as a user would give it.
   */
  private static final String PIPELINE =
      String.join(
          "\n",
          "apiVersion: conveyor.etl/v1",
          "kind: Pipeline",
          "metadata:",
          "  name: demo",
          "spec:",
          "  source: " + STAGES[0],
          "  steps:",
          "    - " + STAGES[1],
          "  sink: " + STAGES[2],
          "");

  /** The watch method with the responses left as bytes: the clients must not cost parse time. */
  private static final MethodDescriptor<WatchAssignmentsRequest, byte[]> WATCH_RAW =
      SidecarCoordinatorGrpc.getWatchAssignmentsMethod().toBuilder(
              ProtoUtils.marshaller(WatchAssignmentsRequest.getDefaultInstance()), new Raw())
          .build();

  private static final Map<ServiceType, String> GRPC_SERVICES =
      Map.of(
          ServiceType.SERVICE_TYPE_SOURCE, "conveyor.etl.v1.SourceService",
          ServiceType.SERVICE_TYPE_TRANSFORM, "conveyor.etl.v1.TransformService",
          ServiceType.SERVICE_TYPE_SINK, "conveyor.etl.v1.SinkService");

  private RouterScaleBench() {}

  /** A router to storm: started by {@code launcher}, named {@code label} in the output. */
  record RouterKind(String label, Launcher launcher) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    int[] sizes =
        Arrays.stream(env.getOrDefault("BENCH_ROUTER_SIDECARS", "250,500,1000").split(","))
            .map(String::trim)
            .mapToInt(Integer::parseInt)
            .toArray();
    int runs = Integer.parseInt(env.getOrDefault("BENCH_ROUTER_RUNS", "1").trim());
    int heartbeatRounds =
        Integer.parseInt(env.getOrDefault("BENCH_ROUTER_HEARTBEAT_ROUNDS", "5").trim());
    long timeoutMillis =
        Long.parseLong(env.getOrDefault("BENCH_ROUTER_TIMEOUT_SECS", "300").trim()) * 1000;
    int subsetSize =
        Integer.parseInt(
            env.getOrDefault(
                    "BENCH_ROUTER_SUBSET_SIZE", String.valueOf(RendezvousSubset.DEFAULT_SIZE))
                .trim());
    Path root = Launcher.findRepoRoot();
    Launcher base = Launcher.jars(root);
    List<RouterKind> kinds = new ArrayList<>(List.of(new RouterKind("base", base)));
    String variantFlags = env.getOrDefault("BENCH_ROUTER_VARIANT_FLAGS", "").trim();
    if (!variantFlags.isEmpty()) {
      kinds.add(
          new RouterKind(
              "variant",
              base.withOverridingOptions(Component.ROUTER, List.of(variantFlags.split("\\s+")))));
      System.out.println("bench: router variant flags: " + variantFlags);
    }
    Path work = root.resolve(".bench-router");
    Path pipelines = work.resolve("pipelines");
    Files.createDirectories(pipelines);
    Files.writeString(pipelines.resolve("demo.yaml"), PIPELINE);

    List<String> failures = new ArrayList<>();
    // This process's JIT and class loading; the router of every storm is a new one anyway.
    Result warmUp =
        storm(
            kinds.get(0),
            work,
            pipelines,
            Math.min(WARM_UP_SIDECARS, sizes[0]),
            timeoutMillis,
            subsetSize,
            heartbeatRounds);
    warmUp.failure().ifPresent(why -> failures.add("warm-up storm: " + why));
    Map<RouterKind, Map<Integer, List<Result>>> results = new LinkedHashMap<>();
    kinds.forEach(kind -> results.put(kind, new LinkedHashMap<>()));
    for (int size : sizes) {
      for (int run = 0; run < runs; run++) {
        for (RouterKind kind : kinds) {
          Result result =
              storm(kind, work, pipelines, size, timeoutMillis, subsetSize, heartbeatRounds);
          System.out.println(result.line(kinds.size() > 1 ? kind.label() + " " : ""));
          result.failure().ifPresent(failures::add);
          results.get(kind).computeIfAbsent(size, s -> new ArrayList<>()).add(result);
        }
      }
    }
    for (RouterKind kind : kinds) {
      System.out.println(
          summary(kinds.size() > 1 ? kind.label() + " " : "", results.get(kind), subsetSize));
    }
    if (!failures.isEmpty()) {
      failures.forEach(why -> System.err.println("bench: router FAILED: " + why));
      System.exit(1);
    }
  }

  /** The medians of each size's storms, and how the per-sidecar time scales from first to last. */
  private static String summary(String prefix, Map<Integer, List<Result>> bySize, int subsetSize) {
    List<Integer> sizes = new ArrayList<>(bySize.keySet());
    int first = sizes.get(0);
    int last = sizes.get(sizes.size() - 1);
    List<Result> lastRuns = bySize.get(last);
    long converged = median(lastRuns, Result::convergedMillis);
    double perSidecarFirst = (double) median(bySize.get(first), Result::convergedMillis) / first;
    return String.format(
        Locale.ROOT,
        "bench: router %ssidecars=%d runs=%d converged_ms=%d registered_ms=%d per_sidecar_ms=%.2f"
            + " router_cpu_ms=%d router_jit_cpu_ms=%d replans=%d heartbeat_router_cpu_us=%d"
            + " pushed_mib=%.1f"
            + " kib_per_registration=%.1f"
            + " (at %d: %.1f) scaling=%.2f (per-sidecar time at %d over that at %d) subset_size=%d",
        prefix,
        last,
        lastRuns.size(),
        converged,
        median(lastRuns, Result::registeredMillis),
        (double) converged / last,
        median(lastRuns, Result::routerCpuMillis),
        median(lastRuns, Result::routerJitCpuMillis),
        median(lastRuns, Result::replans),
        median(lastRuns, Result::lastHeartbeatRoundMicros),
        median(lastRuns, Result::pushedBytes) / 1048576.0,
        median(lastRuns, Result::pushedBytes) / 1024.0 / last,
        first,
        median(bySize.get(first), Result::pushedBytes) / 1024.0 / first,
        ((double) converged / last) / perSidecarFirst,
        last,
        first,
        subsetSize);
  }

  private static long median(List<Result> results, ToLongFunction<Result> value) {
    long[] sorted = results.stream().mapToLong(value).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  record Result(
      int sidecars,
      long registeredMillis,
      long convergedMillis,
      long pushedBytes,
      long pushedMessages,
      long routerCpuMillis,
      long routerJitCpuMillis,
      long benchCpuMillis,
      long replans,
      long[] heartbeatRouterCpuMicros,
      boolean converged,
      long timeoutMillis,
      long errors,
      String firstError) {

    /** Why this run does not count, if it does not. */
    Optional<String> failure() {
      if (errors > 0) {
        return Optional.of(
            String.format(
                Locale.ROOT,
                "sidecars=%d counted %d error(s); first: %s",
                sidecars,
                errors,
                firstError));
      }
      if (!converged) {
        return Optional.of(
            String.format(
                Locale.ROOT,
                "sidecars=%d did not converge within BENCH_ROUTER_TIMEOUT_SECS (%d s); the"
                    + " expected subsets rank sidecars by their pod UID, as the router does",
                sidecars,
                timeoutMillis / 1000));
      }
      return Optional.empty();
    }

    /** The router's CPU per heartbeat in the last round (0 without rounds). */
    long lastHeartbeatRoundMicros() {
      return heartbeatRouterCpuMicros.length == 0
          ? 0
          : heartbeatRouterCpuMicros[heartbeatRouterCpuMicros.length - 1];
    }

    String line(String prefix) {
      return String.format(
          Locale.ROOT,
          "bench: router storm %ssidecars=%d registered_ms=%d converged_ms=%d%s per_sidecar_ms=%.2f"
              + " pushes=%d pushed_mib=%.1f kib_per_registration=%.1f router_cpu_ms=%d"
              + " router_jit_cpu_ms=%d bench_cpu_ms=%d replans=%d heartbeat_router_cpu_us=%s"
              + " errors=%d",
          prefix,
          sidecars,
          registeredMillis,
          convergedMillis,
          converged ? "" : " (TIMED OUT)",
          (double) convergedMillis / sidecars,
          pushedMessages,
          pushedBytes / 1048576.0,
          pushedBytes / 1024.0 / sidecars,
          routerCpuMillis,
          routerJitCpuMillis,
          benchCpuMillis,
          replans,
          Arrays.stream(heartbeatRouterCpuMicros)
              .mapToObj(Long::toString)
              .collect(Collectors.joining(",")),
          errors);
    }
  }

  /**
   * Waits until the router answers /readyz and its CPU stops rising (its start-up's class loading
   * and compilation done), 10 s at most, so that the CPU counted from the storm's start is the
   * storm's.
   */
  private static void awaitSettled(LocalCluster cluster, ManagedProcess router)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cluster.get(cluster.routerMetricsPort(), "/readyz").ok()
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    long before = router.cpuMillis();
    while (System.nanoTime() < deadline) {
      Thread.sleep(200);
      long now = router.cpuMillis();
      if (now - before <= 10) { // at most one clock tick in 200 ms: idle
        return;
      }
      before = now;
    }
  }

  /**
   * One storm of {@code sidecars} registrations against a router of {@code kind} started for it.
   */
  private static Result storm(
      RouterKind kind,
      Path work,
      Path pipelines,
      int sidecars,
      long timeoutMillis,
      int subsetSize,
      int heartbeatRounds)
      throws Exception {
    List<Map<Integer, Set<String>>> expected = expectedTargets(sidecars, subsetSize);
    try (LocalCluster cluster = new LocalCluster(kind.launcher(), work, false)) {
      ManagedProcess router =
          cluster.startRouter(
              pipelines,
              Map.of(
                  "ROUTER_SUBSET_SIZE",
                  Integer.toString(subsetSize),
                  "MAX_SIDECARS",
                  Integer.toString(Math.max(sidecars, 10_000))));
      awaitSettled(cluster, router);
      String[] endpoint = cluster.routerEndpoint().split(":");
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        channels.add(
            NettyChannelBuilder.forAddress(endpoint[0], Integer.parseInt(endpoint[1]))
                .usePlaintext()
                .maxInboundMessageSize(256 << 20)
                .build());
      }
      try {
        return storm(
            router,
            channels,
            sidecars,
            expected,
            timeoutMillis,
            heartbeatRounds,
            () -> replans(cluster.get(cluster.routerMetricsPort(), "/metrics")));
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
      }
    }
  }

  private static Result storm(
      ManagedProcess router,
      List<ManagedChannel> channels,
      int sidecars,
      List<Map<Integer, Set<String>>> expected,
      long timeoutMillis,
      int heartbeatRounds,
      LongSupplier replans)
      throws InterruptedException {
    List<Watch> watches = new ArrayList<>();
    Errors errors = new Errors();
    ExecutorService registering = Executors.newFixedThreadPool(REGISTERING_THREADS);
    long routerCpuBefore = router.cpuMillis();
    long routerJitBefore =
        ManagedProcess.threadCpuMillis(router.pid(), ManagedProcess.JIT_COMPILER_THREADS);
    long cpuBefore = ManagedProcess.cpuMillis(ProcessHandle.current().pid());
    long started = System.nanoTime();
    try {
      List<Future<Watch>> pending = new ArrayList<>();
      for (int i = 0; i < sidecars; i++) {
        int index = i;
        ManagedChannel channel = channels.get(i % channels.size());
        pending.add(registering.submit(() -> register(channel, index, errors)));
      }
      for (Future<Watch> future : pending) {
        try {
          watches.add(future.get());
        } catch (ExecutionException e) {
          errors.add("registration failed: " + e.getCause());
        }
      }
      long registered = System.nanoTime();
      boolean converged = false;
      long deadline = started + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
      // A fleet with a sidecar missing never holds the full plan: no use waiting for it.
      while (errors.count() == 0 && System.nanoTime() < deadline && router.isAlive()) {
        if (watches.stream().allMatch(w -> w.holdsFullPlan(expected.get(w.index)))) {
          converged = true;
          break;
        }
        Thread.sleep(20);
      }
      long done = System.nanoTime();
      if (!router.isAlive()) {
        errors.add("the router exited during the storm: " + router.logTail(20));
      }
      long bytes = watches.stream().mapToLong(w -> w.bytes.get()).sum();
      long messages = watches.stream().mapToLong(w -> w.messages.get()).sum();
      long routerCpu = router.cpuMillis() - routerCpuBefore;
      long routerJit =
          ManagedProcess.threadCpuMillis(router.pid(), ManagedProcess.JIT_COMPILER_THREADS)
              - routerJitBefore;
      long benchCpu = ManagedProcess.cpuMillis(ProcessHandle.current().pid()) - cpuBefore;
      long replanned = replans.getAsLong(); // before the heartbeats, which change nothing
      long[] heartbeats =
          converged
              ? heartbeatRounds(router, channels, watches, heartbeatRounds, registering, errors)
              : new long[0];
      return new Result(
          sidecars,
          TimeUnit.NANOSECONDS.toMillis(registered - started),
          TimeUnit.NANOSECONDS.toMillis(done - started),
          bytes,
          messages,
          routerCpu,
          routerJit,
          benchCpu,
          replanned,
          heartbeats,
          converged,
          timeoutMillis,
          errors.count(),
          errors.first());
    } finally {
      registering.shutdownNow();
      watches.forEach(Watch::cancel);
    }
  }

  /** Errors seen by any thread of one run: counted, the first one kept to be named. */
  private static final class Errors {
    private final AtomicLong count = new AtomicLong();
    private final AtomicReference<String> first = new AtomicReference<>();

    void add(String what) {
      count.incrementAndGet();
      first.compareAndSet(null, what);
    }

    long count() {
      return count.get();
    }

    String first() {
      return first.get();
    }
  }

  private static String sidecarId(int index) {
    return String.format(Locale.ROOT, "sc-%05d", index);
  }

  /** The key the router ranks a sidecar by: its pod's UID, as {@link #register} registers it. */
  private static String podKey(String sidecarId) {
    return "uid:uid-" + sidecarId;
  }

  /**
   * What each sidecar must end up holding, per stage index: for the stages it runs and the stage
   * after each, its subset of that stage's replicas over the whole fleet; nothing for the others.
   */
  private static List<Map<Integer, Set<String>>> expectedTargets(int sidecars, int subsetSize) {
    List<List<RendezvousSubset.Candidate>> replicas = new ArrayList<>();
    for (int stage = 0; stage < STAGES.length; stage++) {
      replicas.add(new ArrayList<>());
    }
    for (int i = 0; i < sidecars; i++) {
      String id = sidecarId(i);
      replicas.get(i % STAGES.length).add(new RendezvousSubset.Candidate(id, podKey(id)));
    }
    List<Map<Integer, Set<String>>> expected = new ArrayList<>(sidecars);
    for (int i = 0; i < sidecars; i++) {
      String id = sidecarId(i);
      int runs = i % STAGES.length;
      Map<Integer, Set<String>> told = new HashMap<>();
      for (int stage = runs; stage <= Math.min(runs + 1, STAGES.length - 1); stage++) {
        told.put(
            stage,
            new HashSet<>(
                RendezvousSubset.choose(id, podKey(id), replicas.get(stage), subsetSize)));
      }
      expected.add(told);
    }
    return expected;
  }

  private static Watch register(ManagedChannel channel, int index, Errors errors) {
    String id = sidecarId(index);
    // No heartbeats in the storm: the figures are the watch streams' alone.
    RegisterSidecarRequest request =
        RegisterSidecarRequest.newBuilder()
            .setIdentity(
                SidecarIdentity.newBuilder()
                    .setSidecarId(id)
                    .setPodName("pod-" + id)
                    .setNamespace("default")
                    .setPodUid("uid-" + id)
                    .setPodIp("10.0.0.1"))
            .setDataPlaneEndpoint(id + ".pods.test:9091")
            .addServices(service(index))
            .setSidecarVersion("bench")
            .setState(SidecarState.SIDECAR_STATE_SERVING)
            .setHeartbeatIntervalSeconds(300)
            .build();
    SidecarCoordinatorGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .registerSidecar(request);
    Watch watch = new Watch(id, index, channel.newCall(WATCH_RAW, CallOptions.DEFAULT), errors);
    watch.start(
        WatchAssignmentsRequest.newBuilder().setSidecarId(id).setAcceptsDeltas(true).build());
    return watch;
  }

  /**
   * The router's {@code conveyor_router_replans_total} from its /metrics, -1 when it has none (a
   * router built before it) or did not answer.
   */
  private static long replans(LocalCluster.HttpResult metrics) {
    return metrics.ok()
        ? (long) PrometheusText.metric(metrics.body(), "conveyor_router_replans_total")
        : -1;
  }

  /** The one service sidecar {@code index} runs: the stage of its index modulo the stages. */
  private static DiscoveredService service(int index) {
    ServiceType type =
        switch (index % STAGES.length) {
          case 0 -> ServiceType.SERVICE_TYPE_SOURCE;
          case 1 -> ServiceType.SERVICE_TYPE_TRANSFORM;
          default -> ServiceType.SERVICE_TYPE_SINK;
        };
    return DiscoveredService.newBuilder()
        .setDescription(
            ServiceDescriptor.newBuilder().setName(STAGES[index % STAGES.length]).setType(type))
        .setGrpcService(GRPC_SERVICES.get(type))
        .setEndpoint("127.0.0.1:50052")
        .setHealth(ServiceHealth.SERVICE_HEALTH_SERVING)
        .build();
  }

  /**
   * Every sidecar heartbeats once per round, 8 at a time, as the converged fleet does every few
   * seconds (nothing changed: the same services, the version it holds); returns the router's CPU
   * per heartbeat in each round, in microseconds. Later rounds show the cost once the router's JIT
   * has compiled the heartbeat path, which is what a fleet costs it in the long run.
   */
  private static long[] heartbeatRounds(
      ManagedProcess router,
      List<ManagedChannel> channels,
      List<Watch> watches,
      int rounds,
      ExecutorService threads,
      Errors errors)
      throws InterruptedException {
    List<HeartbeatRequest> requests = new ArrayList<>();
    for (Watch watch : watches) { // the held versions, read by the thread that applied them
      requests.add(
          HeartbeatRequest.newBuilder()
              .setSidecarId(watch.sidecarId)
              .setAssignmentVersion(watch.held.getVersion())
              .setState(SidecarState.SIDECAR_STATE_SERVING)
              .addServices(service(watch.index))
              .setLoad(SidecarLoad.getDefaultInstance())
              .build());
    }
    long[] micros = new long[rounds];
    for (int round = 0; round < rounds && errors.count() == 0; round++) {
      long cpuBefore = router.cpuMillis();
      List<Future<?>> pending = new ArrayList<>();
      for (int i = 0; i < requests.size(); i++) {
        HeartbeatRequest request = requests.get(i);
        ManagedChannel channel = channels.get(i % channels.size());
        pending.add(
            threads.submit(
                () ->
                    SidecarCoordinatorGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(60, TimeUnit.SECONDS)
                        .heartbeat(request)));
      }
      for (Future<?> future : pending) {
        try {
          future.get();
        } catch (ExecutionException e) {
          errors.add("heartbeat failed: " + e.getCause());
        }
      }
      micros[round] = (router.cpuMillis() - cpuBefore) * 1000 / Math.max(1, requests.size());
    }
    return micros;
  }

  /**
   * One sidecar's watch stream: counts what arrives and queues it unparsed; the checking thread
   * applies it, so the network threads do no more than count.
   */
  private static final class Watch extends ClientCall.Listener<byte[]> {
    private final String sidecarId;
    private final int index;
    private final ClientCall<WatchAssignmentsRequest, byte[]> call;
    private final Errors errors;
    private volatile boolean cancelled;
    private final Queue<byte[]> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong messages = new AtomicLong();
    private AssignmentSet held = AssignmentSet.getDefaultInstance();
    private boolean full;

    Watch(
        String sidecarId,
        int index,
        ClientCall<WatchAssignmentsRequest, byte[]> call,
        Errors errors) {
      this.sidecarId = sidecarId;
      this.index = index;
      this.call = call;
      this.errors = errors;
    }

    void start(WatchAssignmentsRequest request) {
      call.start(this, new Metadata());
      call.sendMessage(request);
      call.halfClose();
      call.request(Integer.MAX_VALUE);
    }

    @Override
    public void onMessage(byte[] message) {
      bytes.addAndGet(message.length);
      messages.incrementAndGet();
      arrived.add(message);
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      if (!cancelled) { // the router ended a watch the benchmark still needed
        errors.add("watch of " + sidecarId + " ended: " + status);
      }
    }

    /** Applies what arrived since the last call: does the sidecar hold exactly its subsets? */
    boolean holdsFullPlan(Map<Integer, Set<String>> expected) {
      boolean changed = false;
      for (byte[] message = arrived.poll(); message != null; message = arrived.poll()) {
        try {
          for (Command command : AssignmentUpdate.parseFrom(message).getCommandsList()) {
            changed |= apply(command);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      if (changed) {
        full = complete(held, expected);
      }
      return full;
    }

    /** As the sidecar's cluster client does; returns whether the held set changed. */
    private boolean apply(Command command) {
      if (command.hasAssign() && command.getAssign().getVersion() > held.getVersion()) {
        held = command.getAssign();
        return true;
      }
      if (command.hasDelta() && command.getDelta().getVersion() > held.getVersion()) {
        try {
          held = AssignmentPatch.apply(held, command.getDelta());
          return true;
        } catch (AssignmentPatch.MismatchException e) {
          errors.add("delta for " + sidecarId + " did not apply: " + e.getMessage());
        }
      }
      return false;
    }

    private static boolean complete(AssignmentSet set, Map<Integer, Set<String>> expected) {
      for (PipelineAssignment pipeline : set.getPipelinesList()) {
        List<StageAssignment> stages = pipeline.getStagesList();
        for (int i = 0; i < stages.size(); i++) {
          Set<String> held = new HashSet<>();
          stages.get(i).getTargetsList().forEach(t -> held.add(t.getSidecarId()));
          if (!held.equals(expected.getOrDefault(i, Set.of()))
              || held.size() != stages.get(i).getTargetsCount()) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    void cancel() {
      cancelled = true;
      call.cancel("benchmark over", null);
    }
  }

  private static final class Raw implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      throw new UnsupportedOperationException("responses only");
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

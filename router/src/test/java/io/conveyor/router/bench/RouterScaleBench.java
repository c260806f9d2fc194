package io.conveyor.router.bench;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.proto.delta.AssignmentPatch;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.plan.RendezvousSubset;
import io.conveyor.router.testing.Fixtures;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
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

/**
 * A registration storm against the router, over real gRPC: N sidecars register (8 at a time), each
 * opens its WatchAssignments stream, and the clock stops when every sidecar holds its complete
 * routing plan (for the stages it runs and the stage after each, in a source → transform → sink
 * pipeline with a third of the sidecars hosting each stage, exactly the subset of the replicas that
 * {@link RendezvousSubset#choose} gives it over the whole fleet, computed here before the clock
 * starts). This is what a router restart or a leader change looks like at scale: every registration
 * changes the targets of the participants next to it.
 *
 * <p>Each simulated sidecar watches with {@code accepts_deltas} and applies what arrives as the
 * real one does: a full set replaces what it holds, a delta applies on top of exactly its base
 * version. A delta that does not fit counts as an error (the router has no reason to send one here:
 * nothing is lost and there are no heartbeats).
 *
 * <p>Reported per size: time to converge, per sidecar, the bytes pushed (and per registration:
 * pushed bytes over sidecars, which stays flat when the cost of a registration does not grow with
 * the fleet), and the router's share of the CPU (this JVM's CPU minus the clients' threads is not
 * separable, so the whole JVM's CPU is printed; the clients only count bytes and parse one message
 * per stream at the end). The ratio {@code scaling} is the per-sidecar time at the largest size
 * over that at the smallest, measured in the same run: 1.0 means the router's cost per sidecar does
 * not grow with the fleet.
 *
 * <p>Run: {@code ./conveyor bench router}. {@code BENCH_ROUTER_SIDECARS} (default {@code
 * 250,500,1000}) sets the sizes; {@code BENCH_ROUTER_TIMEOUT_SECS} (default 300) bounds each;
 * {@code BENCH_ROUTER_SUBSET_SIZE} (default the router's, {@value RendezvousSubset#DEFAULT_SIZE})
 * sets the routers' subset size.
 *
 * <p>Exits 1, saying why on stderr, when a size does not converge in time or counts errors (a
 * registration refused or failed, a watch stream ended by the router): a run that did not measure
 * what it claims must not look like a result.
 */
public final class RouterScaleBench {

  private static final String[] STAGES = {"orders-source", "mask-pii", "warehouse"};
  private static final int REGISTERING_THREADS = 8;

  /** The watch method with the responses left as bytes: the clients must not cost parse time. */
  private static final MethodDescriptor<WatchAssignmentsRequest, byte[]> WATCH_RAW =
      SidecarCoordinatorGrpc.getWatchAssignmentsMethod().toBuilder(
              ProtoUtils.marshaller(WatchAssignmentsRequest.getDefaultInstance()), new Raw())
          .build();

  public static void main(String[] args) throws Exception {
    int[] sizes =
        Arrays.stream(
                System.getenv().getOrDefault("BENCH_ROUTER_SIDECARS", "250,500,1000").split(","))
            .map(String::trim)
            .mapToInt(Integer::parseInt)
            .toArray();
    long timeoutMillis =
        Long.parseLong(System.getenv().getOrDefault("BENCH_ROUTER_TIMEOUT_SECS", "300")) * 1000;
    int subsetSize =
        Integer.parseInt(
            System.getenv()
                .getOrDefault(
                    "BENCH_ROUTER_SUBSET_SIZE", String.valueOf(RendezvousSubset.DEFAULT_SIZE)));
    List<String> failures = new ArrayList<>();
    // JIT and class loading
    Result warmUp = runSize(Math.min(100, sizes[0]), timeoutMillis, subsetSize);
    warmUp.failure().ifPresent(why -> failures.add("warm-up run: " + why));
    List<Result> results = new ArrayList<>();
    for (int size : sizes) {
      Result result = runSize(size, timeoutMillis, subsetSize);
      System.out.println(result.line());
      result.failure().ifPresent(failures::add);
      results.add(result);
    }
    Result first = results.get(0);
    Result last = results.get(results.size() - 1);
    System.out.printf(
        Locale.ROOT,
        "bench: router sidecars=%d converged_ms=%d per_sidecar_ms=%.2f pushed_mib=%.1f"
            + " kib_per_registration=%.1f (at %d: %.1f) scaling=%.2f (per-sidecar time at %d over"
            + " that at %d) subset_size=%d%n",
        last.sidecars,
        last.convergedMillis,
        last.perSidecarMillis(),
        last.pushedBytes / 1048576.0,
        last.kibPerRegistration(),
        first.sidecars,
        first.kibPerRegistration(),
        last.perSidecarMillis() / first.perSidecarMillis(),
        last.sidecars,
        first.sidecars,
        subsetSize);
    if (!failures.isEmpty()) {
      failures.forEach(why -> System.err.println("bench: router FAILED: " + why));
      System.exit(1);
    }
  }

  record Result(
      int sidecars,
      long registeredMillis,
      long convergedMillis,
      long pushedBytes,
      long pushedMessages,
      long cpuMillis,
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
                "sidecars=%d did not converge within BENCH_ROUTER_TIMEOUT_SECS (%d s)",
                sidecars,
                timeoutMillis / 1000));
      }
      return Optional.empty();
    }

    /** Bytes pushed over sidecars: what one registration costs the fleet, in KiB. */
    double kibPerRegistration() {
      return pushedBytes / 1024.0 / sidecars;
    }

    double perSidecarMillis() {
      return (double) convergedMillis / sidecars;
    }

    String line() {
      return String.format(
          Locale.ROOT,
          "bench: router storm sidecars=%d registered_ms=%d converged_ms=%d%s per_sidecar_ms=%.2f"
              + " pushes=%d pushed_mib=%.1f kib_per_registration=%.1f jvm_cpu_ms=%d errors=%d",
          sidecars,
          registeredMillis,
          convergedMillis,
          converged ? "" : " (TIMED OUT)",
          perSidecarMillis(),
          pushedMessages,
          pushedBytes / 1048576.0,
          kibPerRegistration(),
          cpuMillis,
          errors);
    }
  }

  private static Result runSize(int sidecars, long timeoutMillis, int subsetSize) throws Exception {
    RouterSettings settings = RouterSettings.defaults().withSubsetSize(subsetSize);
    RouterCore core = new RouterCore(Clock.systemUTC(), settings);
    List<Map<Integer, Set<String>>> expected = expectedTargets(sidecars, subsetSize);
    core.upsertPipeline(Fixtures.pipeline("demo", STAGES[0], List.of(STAGES[1]), STAGES[2]));
    RouterServer server =
        RouterServer.start(NettyServerBuilder.forPort(0), core, new SimpleMeterRegistry());
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      channels.add(
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              .maxInboundMessageSize(256 << 20)
              .build());
    }
    List<Watch> watches = new ArrayList<>();
    Errors errors = new Errors();
    ExecutorService registering = Executors.newFixedThreadPool(REGISTERING_THREADS);
    long cpuBefore = processCpuMillis();
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
      for (int i = 0; i < sidecars; i++) { // the expectation must rank by the router's keys
        String id = sidecarId(i);
        String key = core.sidecar(id).map(r -> r.podKey()).orElse("(not registered)");
        if (!key.equals(podKey(id))) {
          errors.add("the router keys " + id + " by " + key + ", the bench by " + podKey(id));
        }
      }
      boolean converged = false;
      long deadline = started + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
      // A fleet with a sidecar missing never holds the full plan: no use waiting for it.
      while (errors.count() == 0 && System.nanoTime() < deadline) {
        if (watches.stream().allMatch(w -> w.holdsFullPlan(expected.get(w.index)))) {
          converged = true;
          break;
        }
        Thread.sleep(20);
      }
      long done = System.nanoTime();
      long bytes = watches.stream().mapToLong(w -> w.bytes.get()).sum();
      long messages = watches.stream().mapToLong(w -> w.messages.get()).sum();
      return new Result(
          sidecars,
          TimeUnit.NANOSECONDS.toMillis(registered - started),
          TimeUnit.NANOSECONDS.toMillis(done - started),
          bytes,
          messages,
          processCpuMillis() - cpuBefore,
          converged,
          timeoutMillis,
          errors.count(),
          errors.first());
    } finally {
      registering.shutdownNow();
      watches.forEach(Watch::cancel);
      channels.forEach(ManagedChannel::shutdownNow);
      server.close();
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

  /** The key the router ranks a sidecar by: its pod's UID, as {@code Fixtures} registers it. */
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
    String stage = STAGES[index % STAGES.length];
    DiscoveredService service =
        switch (index % STAGES.length) {
          case 0 -> Fixtures.source(stage);
          case 1 -> Fixtures.transform(stage);
          default -> Fixtures.sink(stage);
        };
    RegisterSidecarRequest request =
        Fixtures.registration(id, service).toBuilder().setHeartbeatIntervalSeconds(300).build();
    SidecarCoordinatorGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .registerSidecar(request);
    Watch watch = new Watch(id, index, channel.newCall(WATCH_RAW, CallOptions.DEFAULT), errors);
    watch.start(
        WatchAssignmentsRequest.newBuilder().setSidecarId(id).setAcceptsDeltas(true).build());
    return watch;
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

  private static long processCpuMillis() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime()
        / 1_000_000;
  }
}

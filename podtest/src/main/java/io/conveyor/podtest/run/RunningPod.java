package io.conveyor.podtest.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.conveyor.podtest.image.DockerArchive;
import io.conveyor.podtest.spec.ContainerPlan;
import io.conveyor.podtest.spec.PodPlan;
import io.conveyor.podtest.spec.ProbePlan;
import io.conveyor.podtest.spec.VolumePlan;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pod running under runc, kept as a kubelet keeps it: init containers to completion, native
 * sidecars started (startup probe passed) before the app containers, probes against the pod IP,
 * exits recorded with their reason (OOMKilled from the container's memory cgroup), restarts under
 * the restart policy with a crash back-off, emptyDir size limits enforced by eviction.
 *
 * <p>Each container runs as a foreground {@code runc run --keep}: runc is the shim, so its exit
 * status is the container's, and the stopped container keeps its cgroup until the runner has read
 * its OOM count and deletes it.
 */
public final class RunningPod implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RunningPod.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LOG_TAIL_BYTES = 2048;

  private final PodPlan plan;
  private final String runcPrefix;
  private final String cgroupParent;
  private final RunSettings settings;
  private final Clock clock;
  private final Map<String, ContainerRun> containers = new LinkedHashMap<>();
  private final ScheduledExecutorService monitor;
  private final List<String> events = new ArrayList<>();
  private String failure; // why the pod failed or was evicted; null while it runs
  private boolean closed;

  RunningPod(
      PodPlan plan, String runcPrefix, String cgroupParent, RunSettings settings, Clock clock) {
    this.plan = plan;
    this.runcPrefix = runcPrefix;
    this.cgroupParent = cgroupParent;
    this.settings = settings;
    this.clock = clock;
    for (ContainerPlan c : plan.containers()) {
      containers.put(
          c.name(),
          new ContainerRun(
              c,
              runcPrefix + "-" + c.name(),
              new CrashBackoff(settings.restartBackoff(), settings.maxRestartBackoff())));
    }
    this.monitor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "pod-" + plan.identity().name());
              t.setDaemon(true);
              return t;
            });
  }

  public PodPlan plan() {
    return plan;
  }

  public String name() {
    return plan.identity().name();
  }

  public String ip() {
    return plan.identity().ip();
  }

  /** Prepares volumes and bundles, then starts the containers in the kubelet's order. */
  void start() throws IOException {
    prepare();
    monitor.scheduleWithFixedDelay(
        this::tickSafely, 0, settings.tick().toMillis(), TimeUnit.MILLISECONDS);
    for (ContainerPlan c : plan.containers()) {
      ContainerRun run = containers.get(c.name());
      synchronized (this) {
        run.wanted = true;
        launch(run);
      }
      if (c.kind() == ContainerPlan.Kind.INIT) {
        awaitStart(
            run,
            () ->
                run.lastTermination != null
                    && run.lastTermination.exitCode() == 0
                    && !run.running(),
            "complete");
      } else if (c.kind() == ContainerPlan.Kind.NATIVE_SIDECAR) {
        awaitStart(run, () -> run.started, "start");
      }
    }
  }

  private void awaitStart(ContainerRun run, java.util.function.BooleanSupplier done, String what) {
    Instant deadline = clock.instant().plus(settings.startDeadline());
    synchronized (this) {
      while (!done.getAsBoolean()) {
        if (failure != null) {
          throw new IllegalStateException("pod " + name() + " failed: " + failure);
        }
        long left = Duration.between(clock.instant(), deadline).toMillis();
        if (left <= 0) {
          throw new IllegalStateException(
              "container "
                  + run.plan.name()
                  + " of pod "
                  + name()
                  + " did not "
                  + what
                  + " within "
                  + settings.startDeadline()
                  + "; "
                  + describe(run)
                  + "; log tail: "
                  + logTail(run.plan.name()));
        }
        try {
          wait(Math.min(left, 200));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted waiting for " + run.plan.name(), e);
        }
      }
    }
  }

  private void prepare() throws IOException {
    var layout = plan.layout();
    Files.createDirectories(layout.dir());
    for (VolumePlan v : plan.volumes()) {
      Files.createDirectories(v.hostDir());
      if (v instanceof VolumePlan.EmptyDir e) {
        chmod(e.hostDir(), "rwxrwxrwx");
      } else if (v instanceof VolumePlan.MemoryDir m) {
        Commands.run(
            "mount",
            "-t",
            "tmpfs",
            "-o",
            (m.sizeBytes() > 0 ? "size=" + m.sizeBytes() + "," : "") + "mode=0777",
            "tmpfs",
            m.hostDir().toString());
      } else if (v instanceof VolumePlan.Files f) {
        for (Map.Entry<String, byte[]> file : f.files().entrySet()) {
          Path target = f.hostDir().resolve(file.getKey()).normalize();
          if (!target.startsWith(f.hostDir())) {
            throw new IOException("volume " + f.name() + ": path " + file.getKey() + " leaves it");
          }
          Files.createDirectories(target.getParent());
          Files.write(target, file.getValue());
          Commands.run("chmod", Integer.toOctalString(f.mode()), target.toString());
        }
      }
    }
    Files.writeString(layout.etcHosts(), plan.etcHosts());
    Files.writeString(layout.etcResolvConf(), plan.resolvConf());
    Files.writeString(layout.etcHostname(), name() + "\n");
    Files.createDirectories(layout.log("x").getParent());
    Files.createDirectories(layout.terminationMessage("x").getParent());
    for (ContainerRun run : containers.values()) {
      ContainerPlan c = run.plan;
      Path bundle = layout.bundle(c.name());
      Files.createDirectories(bundle);
      Files.write(
          bundle.resolve("config.json"),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c.config()));
      Path message = layout.terminationMessage(c.name());
      Files.write(message, new byte[0]);
      chmod(message, "rw-rw-rw-");
      if (!c.readOnlyRoot()) {
        // A writable root of its own, as a container runtime's snapshotter gives it.
        Path upper = bundle.resolve("upper");
        Path work = bundle.resolve("work");
        Files.createDirectories(upper);
        Files.createDirectories(work);
        Files.createDirectories(layout.writableRoot(c.name()));
        Commands.run(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            "lowerdir=" + c.imageRootfs() + ",upperdir=" + upper + ",workdir=" + work,
            layout.writableRoot(c.name()).toString());
      }
    }
  }

  private static void chmod(Path path, String perms) throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
  }

  /** Starts one run of the container. Caller holds the lock. */
  private void launch(ContainerRun run) {
    ContainerPlan c = run.plan;
    Commands.attempt(List.of("runc", "delete", "--force", run.id), Commands.DEFAULT_TIMEOUT);
    try {
      Files.write(plan.layout().terminationMessage(c.name()), new byte[0]);
      Path log = plan.layout().log(c.name());
      run.process =
          new ProcessBuilder(
                  "runc",
                  "run",
                  "--keep",
                  "--bundle",
                  plan.layout().bundle(c.name()).toString(),
                  run.id)
              .redirectInput(new File("/dev/null"))
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start runc for " + c.name(), e);
    }
    Instant now = clock.instant();
    run.startedAt = now;
    run.nextStartAt = null;
    run.started = c.startupProbe().isEmpty();
    run.ready = false;
    run.startup.reset(now, c.startupProbe());
    run.liveness.reset(now, c.livenessProbe());
    run.readiness.reset(now, c.readinessProbe());
    event("started " + c.name() + " (restart " + run.restartCount + ")");
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warn("pod {}: monitor tick failed", name(), e);
    }
  }

  private synchronized void tick() {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    for (ContainerRun run : containers.values()) {
      if (!run.wanted) {
        continue;
      }
      if (run.process != null && !run.process.isAlive()) {
        exited(run, now);
      }
      if (run.process == null
          && run.nextStartAt != null
          && !now.isBefore(run.nextStartAt)
          && failure == null) {
        run.restartCount++;
        launch(run);
      }
      if (run.running()) {
        probe(run, now);
      }
    }
    checkSizeLimits();
    notifyAll();
  }

  private void exited(ContainerRun run, Instant now) {
    int exit = run.process.exitValue();
    run.process = null;
    boolean oom = oomKills(run) > 0;
    Commands.attempt(List.of("runc", "delete", "--force", run.id), Commands.DEFAULT_TIMEOUT);
    String reason = oom ? "OOMKilled" : exit == 0 ? "Completed" : "Error";
    String message = terminationMessage(run, exit);
    run.lastTermination = new Termination(exit, reason, message);
    run.started = false;
    run.ready = false;
    event("terminated " + run.plan.name() + " exit " + exit + " " + reason);
    log.info("pod {} container {} terminated: exit {} ({})", name(), run.plan.name(), exit, reason);
    String policy = run.plan.restartPolicy();
    boolean restart = policy.equals("Always") || (policy.equals("OnFailure") && exit != 0);
    if (restart && failure == null) {
      run.nextStartAt = now.plus(run.backoff.next(now));
    } else if (run.plan.kind() == ContainerPlan.Kind.INIT && exit != 0) {
      failure = "init container " + run.plan.name() + " failed with exit " + exit;
    }
  }

  private long oomKills(ContainerRun run) {
    Path control =
        Path.of("/sys/fs/cgroup/memory", cgroupParent, run.plan.name(), "memory.oom_control");
    try {
      for (String line : Files.readAllLines(control)) {
        if (line.startsWith("oom_kill ")) {
          return Long.parseLong(line.substring("oom_kill ".length()).strip());
        }
      }
    } catch (IOException | NumberFormatException e) {
      log.warn("pod {} container {}: no OOM count ({})", name(), run.plan.name(), e.toString());
    }
    return 0;
  }

  private String terminationMessage(ContainerRun run, int exit) {
    try {
      String message = Files.readString(plan.layout().terminationMessage(run.plan.name()));
      if (message.isEmpty() && run.plan.fallbackToLogsOnError() && exit != 0) {
        return logTail(run.plan.name());
      }
      return message;
    } catch (IOException e) {
      return "";
    }
  }

  private void probe(ContainerRun run, Instant now) {
    ContainerPlan c = run.plan;
    if (!run.started) {
      ProbePlan p = c.startupProbe().orElseThrow();
      if (attempt(run, p, run.startup, now)) {
        if (run.startup.successes >= 1) {
          run.started = true;
          event(c.name() + " started (startup probe passed)");
        } else if (run.startup.failures >= p.failureThreshold()) {
          kill(
              run,
              "startup probe failed "
                  + p.failureThreshold()
                  + " times: "
                  + run.startup.lastFailure);
        }
      }
      return;
    }
    c.livenessProbe()
        .ifPresent(
            p -> {
              if (attempt(run, p, run.liveness, now)
                  && run.liveness.failures >= p.failureThreshold()) {
                kill(
                    run,
                    "liveness probe failed "
                        + p.failureThreshold()
                        + " times: "
                        + run.liveness.lastFailure);
              }
            });
    if (c.readinessProbe().isEmpty()) {
      run.ready = run.running();
    } else {
      ProbePlan p = c.readinessProbe().get();
      if (attempt(run, p, run.readiness, now)) {
        if (run.readiness.successes >= p.successThreshold()) {
          run.ready = true;
        } else if (run.readiness.failures >= p.failureThreshold()) {
          if (run.ready || run.readiness.failures == p.failureThreshold()) {
            // As the kubelet's Unhealthy event; once per run of failures, not per probe.
            event(c.name() + " readiness probe failed: " + run.readiness.lastFailure);
          }
          run.ready = false;
        }
      }
    }
  }

  /** Makes the probe if it is due; true when it was made. */
  private boolean attempt(
      ContainerRun run, ProbePlan p, ContainerRun.ProbeState state, Instant now) {
    if (state.due == null || now.isBefore(state.due)) {
      return false;
    }
    StringBuilder why = new StringBuilder();
    if (Prober.probe(p, ip(), why)) {
      state.successes++;
      state.failures = 0;
    } else {
      state.failures++;
      state.successes = 0;
      state.lastFailure = why.toString();
    }
    state.due = clock.instant().plus(p.period());
    return true;
  }

  /** Stops a container the way the kubelet does for a failed probe; the restart policy follows. */
  private void kill(ContainerRun run, String why) {
    event("killing " + run.plan.name() + ": " + why);
    log.info("pod {}: killing {}: {}", name(), run.plan.name(), why);
    Commands.attempt(List.of("runc", "kill", run.id, "KILL"), Commands.DEFAULT_TIMEOUT);
  }

  private void checkSizeLimits() {
    if (failure != null) {
      return;
    }
    for (VolumePlan v : plan.volumes()) {
      if (v instanceof VolumePlan.EmptyDir e && e.sizeLimitBytes() > 0) {
        long used = usage(e.hostDir());
        if (used > e.sizeLimitBytes()) {
          failure =
              "Evicted: emptyDir "
                  + e.name()
                  + " uses "
                  + used
                  + " bytes, over its sizeLimit of "
                  + e.sizeLimitBytes();
          event(failure);
          for (ContainerRun run : containers.values()) {
            run.wanted = false;
            if (run.running()) {
              Commands.attempt(List.of("runc", "kill", run.id, "KILL"), Commands.DEFAULT_TIMEOUT);
            }
          }
        }
      }
    }
  }

  private static long usage(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0; // files come and go while the container runs
    }
  }

  private void event(String what) {
    events.add(clock.instant() + " " + what);
  }

  // --- what tests see and do ---

  public synchronized ContainerStatus status(String container) {
    return run(container).status();
  }

  /** Every container ready (readiness probe passed, or running without one); init ones excluded. */
  public synchronized boolean ready() {
    return failure == null
        && containers.values().stream()
            .filter(r -> r.plan.kind() != ContainerPlan.Kind.INIT)
            .allMatch(r -> r.ready);
  }

  public synchronized Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  public synchronized List<String> events() {
    return List.copyOf(events);
  }

  public String log(String container) {
    run(container);
    try {
      Path file = plan.layout().log(container);
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  String logTail(String container) {
    String all = log(container);
    return all.length() <= LOG_TAIL_BYTES ? all : all.substring(all.length() - LOG_TAIL_BYTES);
  }

  /** Sends a signal to the container's process, as {@code runc kill} does (e.g. KILL, TERM). */
  public synchronized void signal(String container, String signal) {
    ContainerRun run = run(container);
    Commands.run("runc", "kill", run.id, signal);
    event("signalled " + container + " " + signal);
  }

  /**
   * The container's memory while it runs: its cgroup's limit, usage, peak, fail and OOM-kill
   * counts, and its first process's resident set.
   */
  public MemoryFigures memory(String container) {
    ContainerRun run;
    synchronized (this) {
      run = run(container);
      if (!run.running()) {
        throw new IllegalStateException(
            "container " + container + " of pod " + name() + " is not running");
      }
    }
    Path cgroup = Path.of("/sys/fs/cgroup/memory", cgroupParent, container);
    Map<String, Long> status = new LinkedHashMap<>();
    statusOf(run.id)
        .forEach(
            (key, value) -> {
              String[] parts = value.split("\\s+");
              if (parts.length == 2 && parts[1].equals("kB")) {
                status.put(key, Long.parseLong(parts[0]) * 1024);
              }
            });
    return new MemoryFigures(
        cgroupValue(cgroup.resolve("memory.limit_in_bytes")),
        cgroupValue(cgroup.resolve("memory.usage_in_bytes")),
        cgroupValue(cgroup.resolve("memory.max_usage_in_bytes")),
        cgroupValue(cgroup.resolve("memory.failcnt")),
        oomKills(run),
        memoryStat(container).getOrDefault("total_rss", 0L),
        status.getOrDefault("VmRSS", 0L),
        status.getOrDefault("VmHWM", 0L));
  }

  private static long cgroupValue(Path file) {
    try {
      return Long.parseLong(Files.readString(file).strip());
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e, e);
    }
  }

  /**
   * The {@code /proc/PID/status} of the container's first process, as the host sees it (e.g. {@code
   * Uid}, {@code CapEff}, {@code NoNewPrivs}, {@code Seccomp}, {@code VmRSS}): what the process
   * really runs with.
   */
  public Map<String, String> processStatus(String container) {
    ContainerRun run;
    synchronized (this) {
      run = run(container);
    }
    return statusOf(run.id);
  }

  /**
   * The files the container's first process has mapped ({@code /proc/PID/maps}, e.g. the native
   * libraries it loaded), each path once, without the {@code (deleted)} mark of a removed file.
   */
  public Set<String> mappedFiles(String container) {
    long pid = firstProcess(container);
    Set<String> files = new TreeSet<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps"))) {
        // address perms offset dev inode [path]: the path is the sixth field, when there is one.
        String[] fields = line.trim().split("\\s+", 6);
        if (fields.length == 6 && fields[5].startsWith("/")) {
          // A file deleted since it was mapped (e.g. a library copied to /tmp, loaded, removed).
          files.add(fields[5].replaceFirst(" \\(deleted\\)$", ""));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read the mapped files of process " + pid + " of " + container + ": " + e, e);
    }
    return files;
  }

  /**
   * The names of the threads of the container's first process ({@code /proc/PID/task/TID/comm}, at
   * most 15 characters each, e.g. {@code C2 CompilerThre}), each name once.
   */
  public Set<String> threadNames(String container) {
    long pid = firstProcess(container);
    Set<String> names = new TreeSet<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          names.add(Files.readString(task.resolve("comm")).strip());
        } catch (IOException gone) {
          // The thread ended since the listing: it has no name to give.
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot list the threads of process " + pid + " of " + container + ": " + e, e);
    }
    return names;
  }

  /** The host's pid of the container's first process. */
  private long firstProcess(String container) {
    ContainerRun run;
    synchronized (this) {
      run = run(container);
    }
    return pidOf(run.id);
  }

  private static long pidOf(String containerId) {
    String state = Commands.run("runc", "state", containerId);
    try {
      return JSON.readTree(state).path("pid").asLong();
    } catch (IOException e) {
      throw new IllegalStateException("runc state " + containerId + " is not JSON: " + state, e);
    }
  }

  private static Map<String, String> statusOf(String containerId) {
    long pid = pidOf(containerId);
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          values.put(line.substring(0, colon), line.substring(colon + 1).strip());
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("process " + pid + " of " + containerId + " is gone", e);
    }
    return values;
  }

  /** The container's memory cgroup figures (memory.stat), e.g. {@code rss}, while it runs. */
  public Map<String, Long> memoryStat(String container) {
    run(container);
    Path stat = Path.of("/sys/fs/cgroup/memory", cgroupParent, container, "memory.stat");
    Map<String, Long> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(stat)) {
        String[] kv = line.split(" ");
        values.put(kv[0], Long.parseLong(kv[1]));
      }
    } catch (IOException e) {
      throw new IllegalStateException(container + " has no memory cgroup (not running?)", e);
    }
    return values;
  }

  private ContainerRun run(String container) {
    ContainerRun run = containers.get(container);
    if (run == null) {
      throw new IllegalArgumentException("pod " + name() + " has no container " + container);
    }
    return run;
  }

  private String describe(ContainerRun run) {
    return "status " + run.status() + ", events " + events;
  }

  /**
   * Stops every container as the kubelet does (TERM, the grace period, KILL; app containers first,
   * sidecars last), deletes them and unmounts the pod's mounts.
   */
  @Override
  public void close() {
    List<ContainerRun> order;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      containers.values().forEach(r -> r.wanted = false);
      order = new ArrayList<>(containers.values());
    }
    monitor.shutdownNow();
    // As the kubelet: app containers get TERM together and share the grace period; then the
    // sidecars, in reverse start order; KILL for whatever outlives its share.
    Instant deadline = clock.instant().plus(plan.terminationGrace());
    stop(order.stream().filter(r -> r.plan.kind() == ContainerPlan.Kind.APP).toList(), deadline);
    List<ContainerRun> others =
        new ArrayList<>(
            order.stream().filter(r -> r.plan.kind() != ContainerPlan.Kind.APP).toList());
    java.util.Collections.reverse(others);
    for (ContainerRun run : others) {
      stop(List.of(run), deadline);
    }
    for (ContainerRun run : order) {
      Commands.attempt(List.of("runc", "delete", "--force", run.id), Commands.DEFAULT_TIMEOUT);
    }
    Leftovers.unmountUnder(plan.layout().dir());
    Leftovers.removeCgroupEverywhere(cgroupParent);
    try {
      DockerArchive.deleteRecursively(plan.layout().dir());
    } catch (IOException e) {
      log.warn("pod {}: files not removed: {}", name(), e.toString());
    }
    log.info("pod {} stopped", name());
  }

  private void stop(List<ContainerRun> runs, Instant deadline) {
    List<Process> alive = new ArrayList<>();
    for (ContainerRun run : runs) {
      Process p = run.process;
      if (p != null && p.isAlive()) {
        Commands.attempt(List.of("runc", "kill", run.id, "TERM"), Commands.DEFAULT_TIMEOUT);
        alive.add(p);
      }
    }
    for (Process p : alive) {
      waitFor(p, Duration.between(clock.instant(), deadline));
    }
    for (ContainerRun run : runs) {
      Process p = run.process;
      if (p != null && p.isAlive()) {
        Commands.attempt(List.of("runc", "kill", run.id, "KILL"), Commands.DEFAULT_TIMEOUT);
        waitFor(p, Duration.ofSeconds(10));
        if (p.isAlive()) {
          p.destroyForcibly();
        }
      }
    }
  }

  private static void waitFor(Process p, Duration d) {
    try {
      p.waitFor(Math.max(0, d.toMillis()), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  String runcPrefix() {
    return runcPrefix;
  }
}

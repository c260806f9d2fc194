package io.conveyor.examples.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A component running as a child process, with its output in a log file. Stopping sends SIGTERM and
 * waits (the orderly path: sidecars drain and exit 0); killing sends SIGKILL (a crash).
 */
public final class ManagedProcess implements AutoCloseable {

  private final String name;
  private final List<String> command;
  private final Map<String, String> env;
  private final Path log;
  private volatile Process process;

  private ManagedProcess(String name, List<String> command, Map<String, String> env, Path log) {
    this.name = name;
    this.command = List.copyOf(command);
    this.env = Map.copyOf(env);
    this.log = log;
  }

  public static ManagedProcess start(
      String name, List<String> command, Map<String, String> env, Path log) {
    ManagedProcess process = new ManagedProcess(name, command, env, log);
    process.launch();
    return process;
  }

  private void launch() {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(env);
    try {
      Files.createDirectories(log.getParent());
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
    }
  }

  /** Starts the same command again (after a kill or stop), appending to the same log. */
  public synchronized void restart() {
    if (process.isAlive()) {
      throw new IllegalStateException(name + " is still running");
    }
    launch();
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path log() {
    return log;
  }

  /** SIGKILL, and wait for the process to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(10));
  }

  /** SIGTERM, then SIGKILL if it has not exited within {@code grace}; returns the exit code. */
  public int stop(Duration grace) {
    if (!process.isAlive()) {
      return process.exitValue();
    }
    process.destroy();
    if (!waitFor(grace)) {
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(5));
    }
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** Waits for the process to exit; returns false on timeout. */
  public boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public int exitCode() {
    return process.exitValue();
  }

  /** Resident set size from /proc, in bytes; 0 when unknown or exited. */
  public long rssBytes() {
    return statusBytes("VmRSS:");
  }

  /**
   * The anonymous part of the resident set (heap, metaspace, stacks, malloc), in bytes: what this
   * process costs on its own, without the file-backed pages (libjvm, the CDS archive) that every
   * JVM on the machine shares. 0 when unknown or exited.
   */
  public long rssAnonBytes() {
    return statusBytes("RssAnon:");
  }

  private long statusBytes(String field) {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  /** CPU time (user + system) the process has used so far, in milliseconds; 0 when unknown. */
  public long cpuMillis() {
    return cpuMillis(process.pid());
  }

  /** CPU time of any process from /proc/<pid>/stat, in milliseconds; 0 when unknown. */
  public static long cpuMillis(long pid) {
    try {
      return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")))
          * 1000
          / CLOCK_TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The names of a JVM's JIT compiler threads, as /proc shows them (15 characters at most). */
  public static final List<String> JIT_COMPILER_THREADS =
      List.of("C1 CompilerThre", "C2 CompilerThre");

  /**
   * CPU time (user + system) of the threads of process {@code pid} whose name starts with one of
   * {@code prefixes} ({@code /proc/<pid>/task/<tid>/stat}; a thread that ended took its time with
   * it), in milliseconds; 0 when unknown. E.g. a JVM's JIT compiler threads, {@code C1
   * CompilerThre…} and {@code C2 CompilerThre…}.
   */
  public static long threadCpuMillis(long pid, List<String> prefixes) {
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (prefixes.stream().anyMatch(name::startsWith)) {
            ticks += cpuTicks(stat);
          }
        } catch (IOException gone) {
          // The thread ended since the listing.
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return ticks * 1000 / CLOCK_TICKS_PER_SECOND;
  }

  /** User plus system time of a process's or thread's {@code stat} line, in clock ticks. */
  private static long cpuTicks(String stat) {
    // Fields after the command name (which may hold spaces) start after the last ')'.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
  }

  /** USER_HZ: 100 on every Linux the JVM runs on. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  /** The last {@code lines} lines of the log, for error messages. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(10));
  }
}

package io.conveyor.podtest.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Host commands (ip, runc, mount) run with a deadline; a failure carries the command's output. */
public final class Commands {

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private Commands() {}

  /** Runs {@code command}; its combined output, or an exception naming it and its output. */
  public static String run(List<String> command) {
    Result result = attempt(command, DEFAULT_TIMEOUT);
    if (result.exit() != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + " exited " + result.exit() + ": " + result.output().strip());
    }
    return result.output();
  }

  public static String run(String... command) {
    return run(List.of(command));
  }

  /** The command's exit status and output, never throwing for a non-zero exit. */
  public static Result attempt(List<String> command, Duration timeout) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      // Output is small (ip, runc list); read it whole after the exit, within the deadline.
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return new Result(-1, String.join(" ", command) + " did not finish within " + timeout);
      }
      return new Result(
          p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, String.join(" ", command) + " could not start: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted: " + String.join(" ", command));
    }
  }

  /** What a command did. */
  public record Result(int exit, String output) {}
}

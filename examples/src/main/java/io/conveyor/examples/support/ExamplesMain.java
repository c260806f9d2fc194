package io.conveyor.examples.support;

import io.conveyor.common.config.ConfigException;
import io.conveyor.examples.direct.DirectApp;
import io.conveyor.examples.direct.DirectConfig;
import io.conveyor.examples.sink.SinkApp;
import io.conveyor.examples.sink.SinkConfig;
import io.conveyor.examples.source.SourceApp;
import io.conveyor.examples.source.SourceConfig;
import io.conveyor.examples.transform.TransformApp;
import io.conveyor.examples.transform.TransformConfig;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Entry point of {@code conveyor-examples.jar}: {@code java -jar conveyor-examples.jar
 * source|transform|sink|direct}, each configured from the environment. Exit codes: 0 done or
 * stopped by SIGTERM, 1 failed, 2 bad command line or configuration (the message names the
 * variable).
 */
public final class ExamplesMain {

  static final String USAGE =
      "usage: java -jar conveyor-examples.jar source|transform|sink|direct"
          + " (settings from the environment, see examples/README.md)";

  private ExamplesMain() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, System.getenv(), System.out, System.err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      code = 1;
    }
    System.out.flush();
    System.exit(code);
  }

  /**
   * Starts the runnable named by {@code args[0]}, registers a shutdown hook that stops it
   * gracefully (SIGTERM), and blocks until it has stopped.
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err)
      throws InterruptedException {
    if (args.length != 1) {
      err.println(USAGE);
      return 2;
    }
    String command = args[0];
    RunningApp app;
    try {
      app = start(command, env, out);
    } catch (ConfigException e) {
      err.println("conveyor-examples " + command + ": " + e.getMessage());
      return 2;
    } catch (IllegalArgumentException e) {
      err.println("conveyor-examples: " + e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (UncheckedIOException e) {
      err.println(
          "conveyor-examples "
              + command
              + ": cannot start: "
              + e.getMessage()
              + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
      return 1;
    }
    Thread hook = new Thread(app::close, "shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = app.awaitTermination();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // SIGTERM: the hook is what stopped the app.
    }
    return code;
  }

  /**
   * Starts a runnable without blocking.
   *
   * @throws ConfigException when the environment holds a bad setting
   * @throws IllegalArgumentException when the command is unknown
   */
  public static RunningApp start(String command, Map<String, String> env, PrintStream out) {
    return switch (command) {
      case "source" -> SourceApp.start(SourceConfig.fromEnv(env), out);
      case "transform" -> TransformApp.start(TransformConfig.fromEnv(env), out);
      case "sink" -> SinkApp.start(SinkConfig.fromEnv(env), out);
      case "direct" -> DirectApp.start(DirectConfig.fromEnv(env), out);
      default -> throw new IllegalArgumentException("unknown command '" + command + "'");
    };
  }
}

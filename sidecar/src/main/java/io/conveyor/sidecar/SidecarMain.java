package io.conveyor.sidecar;

import io.conveyor.common.config.ConfigException;
import io.conveyor.sidecar.config.SidecarConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code java -jar conveyor-sidecar.jar}, configured by environment variables (see {@link
 * SidecarConfig}). Exits 2 on bad configuration, 1 when it cannot serve, and 0 after an orderly
 * drain on SIGTERM, SIGINT or the router's drain command.
 */
public final class SidecarMain {

  private static final Logger log = LoggerFactory.getLogger(SidecarMain.class);

  private SidecarMain() {}

  public static void main(String[] args) {
    SidecarConfig config;
    try {
      config = SidecarConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("conveyor-sidecar: " + e.getMessage());
      System.exit(2);
      return;
    }
    Sidecar sidecar;
    try {
      sidecar = Sidecar.start(config);
    } catch (SidecarStartException e) {
      // One line that names the part, its address and variable, and the cause; nothing runs now.
      log.error("{}", e.getMessage());
      System.exit(1);
      return;
    }
    // A handler, not a shutdown hook: the drain runs while the JVM is fully alive, and the exit
    // status is 0 rather than the 143 of a JVM killed by SIGTERM.
    Runnable drainAndExit =
        () ->
            new Thread(
                    () -> {
                      sidecar.shutdown("shutdown requested");
                      System.exit(0);
                    },
                    "drain")
                .start();
    Signal.handle(new Signal("TERM"), signal -> drainAndExit.run());
    Signal.handle(new Signal("INT"), signal -> drainAndExit.run());
    sidecar.onDrainRequested(drainAndExit);
    sidecar.awaitStopped(); // every thread of the sidecar is a daemon: main keeps the JVM up
  }
}

package io.conveyor.router.standalone;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.config.ConfigException;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router on a laptop: {@code java -jar conveyor-router.jar [pipelines-dir]}. Serves
 * SidecarCoordinator on ROUTER_PORT (50051) with the pipelines of a folder of Pipeline YAML files,
 * re-read whenever they change.
 */
public final class StandaloneRouterMain {

  private static final Logger log = LoggerFactory.getLogger(StandaloneRouterMain.class);

  private StandaloneRouterMain() {}

  public static void main(String[] args) throws InterruptedException {
    StandaloneRouterConfig config;
    try {
      config = StandaloneRouterConfig.from(System.getenv(), Arrays.asList(args));
    } catch (ConfigException e) {
      System.err.println("conveyor-router: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-router");
    RouterSettings defaults = RouterSettings.defaults();
    RouterSettings settings =
        new RouterSettings(
            config.maxSidecars(),
            defaults.missedHeartbeats(),
            defaults.minHeartbeatInterval(),
            defaults.maxHeartbeatInterval(),
            defaults.defaultHeartbeatInterval(),
            defaults.maxPipelines(),
            config.warmUp(),
            config.subsetSize());
    RouterCore core = new RouterCore(Clock.systemUTC(), settings);
    PipelineFolderWatcher watcher = new PipelineFolderWatcher(config.pipelinesDir(), core);
    watcher.poll();

    ScheduledExecutorService certificates = DaemonThreads.scheduler("router-certificate");
    StandaloneSecurity.Setup security;
    try {
      security =
          StandaloneSecurity.setUp(
              config.security(), meters, Clock.systemUTC(), new SecureRandom(), certificates);
    } catch (IOException | RuntimeException e) {
      System.err.println(
          "conveyor-router: CA_DIR=" + config.security().caDir() + ": " + e.getMessage());
      System.exit(2);
      return;
    }

    RouterServer server =
        RouterServer.startWithCallPools(
            security.secure(
                NettyServerBuilder.forAddress(
                        new InetSocketAddress(config.bindAddress(), config.grpcPort()))
                    .permitKeepAliveTime(10, TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true)
                    .maxInboundMessageSize(4 << 20)),
            core,
            meters,
            RouterServer.DEFAULT_MIN_ASSIGN_INTERVAL,
            security.services(),
            security.access());
    AdminHttpServer admin =
        AdminHttpServer.builder(new InetSocketAddress(config.bindAddress(), config.metricsPort()))
            .metrics(meters)
            .readiness(
                () ->
                    watcher.problems().isEmpty()
                        ? AdminHttpServer.Check.ok(
                            "serving " + core.pipelines().size() + " pipelines")
                        : AdminHttpServer.Check.ok(
                            "serving; pipeline file problems: "
                                + String.join("; ", watcher.problems())))
            .start();
    ScheduledExecutorService rescans = DaemonThreads.scheduler("pipelines-rescan");
    rescans.scheduleWithFixedDelay(
        () -> {
          try {
            watcher.poll();
          } catch (RuntimeException e) {
            log.error(
                "reloading pipelines from {} failed; keeping the previous ones",
                config.pipelinesDir(),
                e);
          }
        },
        config.rescanInterval().toMillis(),
        config.rescanInterval().toMillis(),
        TimeUnit.MILLISECONDS);

    log.info(
        "conveyor-router serving SidecarCoordinator{} on {}:{}, metrics on :{}, pipelines from {}",
        security.tls().isEmpty()
            ? " (plaintext, no CA)"
            : " and CertificateService over mutual TLS",
        config.bindAddress(),
        server.port(),
        admin.port(),
        config.pipelinesDir().toAbsolutePath());

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down");
                  rescans.shutdownNow();
                  certificates.shutdownNow();
                  server.close(Duration.ofSeconds(2));
                  admin.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
  }
}

package io.conveyor.examples.source;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.examples.support.ExampleProcess;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo source runnable ({@code conveyor-examples.jar source}): serves SourceService on PORT so
 * the sidecar discovers it, pushes RECORDS numbered records into SIDECAR_ENDPOINT, prints a
 * progress line every PROGRESS_INTERVAL_MS and a final {@code <name>: done ...} line. Its admin
 * port serves the pusher's counters as JSON on {@code /stats}.
 */
public final class SourceApp {

  private SourceApp() {}

  public static ExampleProcess start(SourceConfig config, PrintStream out) {
    String name = config.name();
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus(name);
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(config.sidecar().toString())
            .usePlaintext()
            .maxInboundMessageSize(16 << 20)
            .build();
    RecordPusher pusher = new RecordPusher(channel, config.pusher());
    pusher.stats().bindTo(meters, "demo_source");
    ExampleProcess process;
    try {
      process =
          ExampleProcess.start(
              name,
              out,
              config.server(),
              meters,
              Map.of(
                  "/stats",
                  exchange ->
                      AdminHttpServer.respond(
                          exchange, 200, "application/json", pusher.snapshot().toJson() + "\n")),
              List.of(new DemoSource(name, config.pusher().workload().batchSize())));
    } catch (RuntimeException e) {
      pusher.close();
      GrpcServers.shutdown(channel, Duration.ZERO);
      throw e;
    }
    AtomicBoolean stopping = new AtomicBoolean();
    ScheduledExecutorService progress = DaemonThreads.scheduler("source-progress");
    process.closeOnStop(() -> GrpcServers.shutdown(channel, Duration.ofSeconds(2)));
    process.closeOnStop(pusher);
    process.closeOnStop(
        () -> {
          stopping.set(true);
          progress.shutdownNow();
        });

    long records = config.pusher().workload().records();
    out.println(
        process.servingLine()
            + "; pushing "
            + records
            + " records to "
            + config.sidecar()
            + (config.pusher().pipeline().isEmpty()
                ? ""
                : " pipeline " + config.pusher().pipeline()));
    out.flush();
    if (records == 0) {
      return process;
    }
    pusher.start();
    long periodMillis = config.progressInterval().toMillis();
    progress.scheduleAtFixedRate(
        () -> {
          if (!pusher.isComplete()) {
            out.println(name + ": progress " + pusher.snapshot().line());
            out.flush();
          }
        },
        periodMillis,
        periodMillis,
        TimeUnit.MILLISECONDS);
    Thread waiter =
        new Thread(
            () -> {
              int code;
              try {
                if (pusher.awaitCompletion(config.pushTimeout())) {
                  out.println(name + ": done " + pusher.snapshot().line());
                  code = 0;
                } else if (stopping.get()) {
                  return;
                } else {
                  out.println(
                      name
                          + ": incomplete after "
                          + config.pushTimeout().toSeconds()
                          + " s "
                          + pusher.snapshot().line());
                  code = 1;
                }
              } catch (PushFailedException e) {
                out.println(name + ": " + e.getMessage());
                code = 1;
              } catch (InterruptedException e) {
                return;
              }
              out.flush();
              if (config.exitWhenDone()) {
                int exit = code;
                process.stop(exit);
              }
            },
            "source-completion");
    waiter.setDaemon(true);
    waiter.start();
    return process;
  }
}

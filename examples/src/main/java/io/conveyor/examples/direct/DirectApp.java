package io.conveyor.examples.direct;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.support.RunningApp;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The direct baseline runnable ({@code conveyor-examples.jar direct}): drives RECORDS records
 * through TRANSFORM_ENDPOINT and SINK_ENDPOINT with a {@link DirectPipelineDriver}, prints progress
 * and a final {@code direct: done ...} line, and exits (0 when every record has an outcome, 1
 * otherwise).
 */
public final class DirectApp implements RunningApp {

  private final DirectConfig config;
  private final PrintStream out;
  private final ManagedChannel transformChannel;
  private final ManagedChannel sinkChannel;
  private final DirectPipelineDriver driver;
  private final ScheduledExecutorService progress;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DirectApp(DirectConfig config, PrintStream out) {
    this.config = config;
    this.out = out;
    this.transformChannel = channel(config.transform().toString());
    this.sinkChannel =
        config.sink().equals(config.transform())
            ? transformChannel
            : channel(config.sink().toString());
    this.driver = new DirectPipelineDriver(transformChannel, sinkChannel, config.driver());
    this.progress = DaemonThreads.scheduler("direct-progress");
  }

  public static DirectApp start(DirectConfig config, PrintStream out) {
    DirectApp app = new DirectApp(config, out);
    out.println(
        "direct: driving "
            + config.driver().workload().records()
            + " records through "
            + config.transform()
            + " and "
            + config.sink()
            + ", window "
            + config.driver().window());
    out.flush();
    app.driver.start();
    long period = config.progressInterval().toMillis();
    app.progress.scheduleAtFixedRate(
        () -> {
          if (!app.driver.isComplete()) {
            out.println("direct: progress " + app.driver.snapshot().line());
            out.flush();
          }
        },
        period,
        period,
        TimeUnit.MILLISECONDS);
    return app;
  }

  public DirectPipelineDriver driver() {
    return driver;
  }

  @Override
  public int awaitTermination() throws InterruptedException {
    boolean complete;
    try {
      complete = driver.awaitCompletion(config.runTimeout());
    } catch (IllegalStateException e) {
      out.println("direct: " + e.getMessage());
      close();
      return 1;
    }
    if (closed.get()) {
      return 0;
    }
    out.println((complete ? "direct: done " : "direct: incomplete ") + driver.snapshot().line());
    out.flush();
    close();
    return complete ? 0 : 1;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    progress.shutdownNow();
    driver.close();
    GrpcServers.shutdown(transformChannel, Duration.ofSeconds(2));
    if (sinkChannel != transformChannel) {
      GrpcServers.shutdown(sinkChannel, Duration.ofSeconds(2));
    }
  }

  private static ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
  }
}

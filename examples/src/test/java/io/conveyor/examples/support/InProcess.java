package io.conveyor.examples.support;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Services on an in-process server (direct executor) and a channel to it, for tests. */
public final class InProcess implements AutoCloseable {

  private final ServiceHost host;
  private final ManagedChannel channel;

  private InProcess(ServiceHost host, ManagedChannel channel) {
    this.host = host;
    this.channel = channel;
  }

  public static InProcess serve(BindableService... services) {
    String name = InProcessServerBuilder.generateName();
    ServiceHost host =
        ServiceHost.start(InProcessServerBuilder.forName(name).directExecutor(), services);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return new InProcess(host, channel);
  }

  public ManagedChannel channel() {
    return channel;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    host.close(Duration.ofSeconds(1));
  }
}

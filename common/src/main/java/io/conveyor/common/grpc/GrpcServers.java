package io.conveyor.common.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Helpers every Conveyor gRPC server and client shares. */
public final class GrpcServers {

  private GrpcServers() {}

  /**
   * Adds {@code grpc.health.v1.Health} and server reflection (v1 and the older v1alpha, which many
   * tools still ask for) to a server being built. The health status starts as whatever the caller
   * sets on the returned manager; an unset service answers NOT_FOUND.
   */
  @SuppressWarnings("deprecation") // v1alpha reflection: still what grpcurl < 1.9 asks for
  public static HealthStatusManager addStandardServices(ServerBuilder<?> builder) {
    HealthStatusManager health = new HealthStatusManager();
    builder.addService(health.getHealthService());
    builder.addService(ProtoReflectionServiceV1.newInstance());
    builder.addService(io.grpc.protobuf.services.ProtoReflectionService.newInstance());
    return health;
  }

  /** Stops accepting calls, waits up to {@code grace} for running ones, then cancels the rest. */
  public static void shutdown(Server server, Duration grace) {
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Closes a channel, waiting up to {@code grace} for calls in progress. */
  public static void shutdown(ManagedChannel channel, Duration grace) {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        channel.shutdownNow().awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}

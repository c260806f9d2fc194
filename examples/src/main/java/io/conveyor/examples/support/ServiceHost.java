package io.conveyor.examples.support;

import io.conveyor.common.grpc.GrpcServers;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A gRPC server hosting example services the way any user would: the services themselves plus
 * {@code grpc.health.v1.Health} (SERVING for the server and each service) and reflection. The
 * builder is passed in so that tests use an in-process one and the runnables a Netty one.
 */
public final class ServiceHost implements AutoCloseable {

  private final Server server;
  private final HealthStatusManager health;
  private final List<String> serviceNames;

  private ServiceHost(Server server, HealthStatusManager health, List<String> serviceNames) {
    this.server = server;
    this.health = health;
    this.serviceNames = serviceNames;
  }

  public static ServiceHost start(ServerBuilder<?> builder, BindableService... services) {
    HealthStatusManager health = GrpcServers.addStandardServices(builder);
    List<String> names = new ArrayList<>();
    for (BindableService service : services) {
      var definition = service.bindService();
      builder.addService(definition);
      names.add(definition.getServiceDescriptor().getName());
    }
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the gRPC server for " + names, e);
    }
    health.setStatus("", ServingStatus.SERVING);
    names.forEach(name -> health.setStatus(name, ServingStatus.SERVING));
    return new ServiceHost(server, health, List.copyOf(names));
  }

  /** The bound port (-1 for in-process servers). */
  public int port() {
    return server.getPort();
  }

  /** Fully-qualified names of the hosted Conveyor services. */
  public List<String> serviceNames() {
    return serviceNames;
  }

  /** Marks everything NOT_SERVING, then stops, waiting up to {@code grace} for running calls. */
  public void close(Duration grace) {
    health.enterTerminalState();
    GrpcServers.shutdown(server, grace);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}

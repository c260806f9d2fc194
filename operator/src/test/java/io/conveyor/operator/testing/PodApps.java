package io.conveyor.operator.testing;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * A pod's own Conveyor services as an application serves them, for its sidecar to discover: one
 * gRPC server on a loopback port with health, reflection and {@code Describe}. The operator tests
 * are about the control plane, so nothing but {@code Describe} is implemented; the router plans
 * with the names and types the sidecar reports.
 */
public final class PodApps implements AutoCloseable {

  private final Server server;

  private PodApps(Server server) {
    this.server = server;
  }

  /** Serves {@code services}, at most one of each type, on an ephemeral loopback port. */
  public static PodApps serve(ServiceDescriptor... services) {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    HealthStatusManager health = GrpcServers.addStandardServices(builder);
    Set<ServiceType> types = new HashSet<>();
    for (ServiceDescriptor service : services) {
      if (!types.add(service.getType())) {
        throw new IllegalArgumentException(
            "one server serves one service of each type: " + service);
      }
      builder.addService(describing(service));
    }
    try {
      Server server = builder.build().start();
      health.setStatus("", ServingStatus.SERVING);
      return new PodApps(server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve the pod's applications", e);
    }
  }

  public static ServiceDescriptor source(String name) {
    return descriptor(name, ServiceType.SERVICE_TYPE_SOURCE);
  }

  public static ServiceDescriptor transform(String name) {
    return descriptor(name, ServiceType.SERVICE_TYPE_TRANSFORM);
  }

  public static ServiceDescriptor sink(String name) {
    return descriptor(name, ServiceType.SERVICE_TYPE_SINK);
  }

  /** The loopback port the sidecar's discovery range must cover. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    GrpcServers.shutdown(server, Duration.ZERO);
  }

  private static ServiceDescriptor descriptor(String name, ServiceType type) {
    return ServiceDescriptor.newBuilder().setName(name).setType(type).build();
  }

  private static BindableService describing(ServiceDescriptor service) {
    return switch (service.getType()) {
      case SERVICE_TYPE_SOURCE ->
          new SourceServiceGrpc.SourceServiceImplBase() {
            @Override
            public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> out) {
              answer(service, out);
            }
          };
      case SERVICE_TYPE_TRANSFORM ->
          new TransformServiceGrpc.TransformServiceImplBase() {
            @Override
            public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> out) {
              answer(service, out);
            }
          };
      case SERVICE_TYPE_SINK ->
          new SinkServiceGrpc.SinkServiceImplBase() {
            @Override
            public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> out) {
              answer(service, out);
            }
          };
      default -> throw new IllegalArgumentException("not a Conveyor service type: " + service);
    };
  }

  private static void answer(ServiceDescriptor service, StreamObserver<ServiceDescriptor> out) {
    out.onNext(service);
    out.onCompleted();
  }
}

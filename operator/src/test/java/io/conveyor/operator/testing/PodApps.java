package io.conveyor.operator.testing;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A pod's own Conveyor services as an application serves them, for its sidecar to discover: one
 * gRPC server on a loopback port with health, reflection and {@code Describe}. The operator tests
 * are about the control plane: sources and transforms implement nothing but {@code Describe} (the
 * router plans with the names and types the sidecar reports); a sink also writes, keeping every
 * record it is given ({@link #written()}), so that a test can see records arrive.
 */
public final class PodApps implements AutoCloseable {

  /** Records a sink keeps at most; a test sends a few, never this many. */
  static final int MAX_WRITTEN = 10_000;

  private final Server server;
  private final List<Record> written;

  private PodApps(Server server, List<Record> written) {
    this.server = server;
    this.written = written;
  }

  /** Serves {@code services}, at most one of each type, on an ephemeral loopback port. */
  public static PodApps serve(ServiceDescriptor... services) {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    HealthStatusManager health = GrpcServers.addStandardServices(builder);
    List<Record> written = new CopyOnWriteArrayList<>();
    Set<ServiceType> types = new HashSet<>();
    for (ServiceDescriptor service : services) {
      if (!types.add(service.getType())) {
        throw new IllegalArgumentException(
            "one server serves one service of each type: " + service);
      }
      builder.addService(describing(service, written));
    }
    try {
      Server server = builder.build().start();
      health.setStatus("", ServingStatus.SERVING);
      return new PodApps(server, written);
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

  /** Every record this pod's sink has written so far, in order of arrival. */
  public List<Record> written() {
    return List.copyOf(written);
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

  private static BindableService describing(ServiceDescriptor service, List<Record> written) {
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

            @Override
            public void writeBatch(
                WriteBatchRequest request, StreamObserver<WriteBatchResponse> out) {
              if (written.size() + request.getBatch().getRecordsCount() > MAX_WRITTEN) {
                out.onError(
                    Status.RESOURCE_EXHAUSTED
                        .withDescription("the test sink keeps at most " + MAX_WRITTEN + " records")
                        .asRuntimeException());
                return;
              }
              written.addAll(request.getBatch().getRecordsList());
              WriteBatchResponse.Builder response = WriteBatchResponse.newBuilder();
              for (int i = 0; i < request.getBatch().getRecordsCount(); i++) {
                response.addResults(SinkResult.newBuilder().setStatus(SinkResult.Status.STATUS_OK));
              }
              out.onNext(response.build());
              out.onCompleted();
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

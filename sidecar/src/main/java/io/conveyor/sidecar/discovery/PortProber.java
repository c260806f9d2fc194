package io.conveyor.sidecar.discovery;

import io.conveyor.common.config.HostPort;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Finds the Conveyor services behind one loopback port.
 *
 * <ol>
 *   <li>A plain TCP connect: a refused port (most of the range) is skipped in microseconds.
 *   <li>gRPC server reflection lists the services. A listener that is not a plaintext gRPC server —
 *       HTTP/1.1, TLS, one that accepts and stays silent, one that resets — fails this call within
 *       the probe deadline and the port is skipped.
 *   <li>Describe on each {@code conveyor.etl.v1} Source/Transform/Sink service listed; servers
 *       without reflection are asked Describe directly.
 *   <li>The standard health check, when the server has one, marks a service NOT_SERVING.
 * </ol>
 *
 * Every step runs within one deadline per port; nothing here throws.
 */
public final class PortProber {

  static final String CLOSED = "closed";
  static final String NOT_GRPC = "not a plaintext gRPC server: ";
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** The Conveyor services discovery recognises, by fully-qualified name. */
  static final Map<String, ConveyorService> CONVEYOR_SERVICES = new LinkedHashMap<>();

  record ConveyorService(
      ServiceType type, MethodDescriptor<DescribeRequest, ServiceDescriptor> describe) {}

  static {
    CONVEYOR_SERVICES.put(
        SourceServiceGrpc.SERVICE_NAME,
        new ConveyorService(
            ServiceType.SERVICE_TYPE_SOURCE, SourceServiceGrpc.getDescribeMethod()));
    CONVEYOR_SERVICES.put(
        TransformServiceGrpc.SERVICE_NAME,
        new ConveyorService(
            ServiceType.SERVICE_TYPE_TRANSFORM, TransformServiceGrpc.getDescribeMethod()));
    CONVEYOR_SERVICES.put(
        SinkServiceGrpc.SERVICE_NAME,
        new ConveyorService(ServiceType.SERVICE_TYPE_SINK, SinkServiceGrpc.getDescribeMethod()));
  }

  private final String host;
  private final long timeoutMillis;
  private final Function<String, ManagedChannel> channels;

  /**
   * @param channels makes a plaintext channel to {@code host:port}; the prober shuts it down
   */
  public PortProber(String host, long timeoutMillis, Function<String, ManagedChannel> channels) {
    this.host = host;
    this.timeoutMillis = timeoutMillis;
    this.channels = channels;
  }

  public ProbeResult probe(int port) {
    Deadline deadline = Deadline.after(timeoutMillis, TimeUnit.MILLISECONDS);
    ProbeResult refused = tcpConnect(port);
    if (refused != null) {
      return refused;
    }
    String endpoint = new HostPort(host, port).toString();
    ManagedChannel channel = channels.apply(endpoint);
    try {
      List<String> names;
      try {
        names = ReflectionLister.listServices(channel, deadline);
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.DEADLINE_EXCEEDED) {
          // Silent sockets end here, but so does a gRPC server too busy to answer in time.
          return ProbeResult.timedOut(port, NOT_GRPC + code);
        }
        if (code != Status.Code.UNIMPLEMENTED) {
          return ProbeResult.notConveyor(port, NOT_GRPC + code);
        }
        names = new ArrayList<>(CONVEYOR_SERVICES.keySet()); // no reflection: ask each directly
      }
      if (names.stream().noneMatch(CONVEYOR_SERVICES::containsKey)) {
        return ProbeResult.notConveyor(port, ProbeResult.NO_CONVEYOR_SERVICE);
      }
      List<DiscoveredService> found = new ArrayList<>();
      boolean timedOut = false;
      for (String name : names) {
        ConveyorService service = CONVEYOR_SERVICES.get(name);
        if (service != null) {
          try {
            describe(channel, endpoint, name, service, deadline).ifPresent(found::add);
          } catch (StatusRuntimeException e) {
            timedOut = true; // Describe did not answer in time: maybe next scan
          }
        }
      }
      return ProbeResult.found(port, found, timedOut);
    } finally {
      channel.shutdownNow();
    }
  }

  /** Null when the port accepts connections, else the port's result. */
  private ProbeResult tcpConnect(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(host, port), (int) Math.max(1, Math.min(timeoutMillis, 500)));
      return null;
    } catch (ConnectException e) {
      return ProbeResult.skipped(port, CLOSED);
    } catch (SocketTimeoutException e) {
      return ProbeResult.timedOut(port, "connect timed out");
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("reset")) {
        // A timed connect is non-blocking underneath, so a listener that accepts and resets at
        // once can fail the connect itself. It did accept, and a gRPC server would not reset.
        return ProbeResult.notConveyor(port, NOT_GRPC + "reset on connect");
      }
      return ProbeResult.skipped(port, "connect failed: " + e.getMessage());
    }
  }

  /**
   * Describe and health of one listed Conveyor service; empty when it is not usable.
   *
   * @throws StatusRuntimeException DEADLINE_EXCEEDED when Describe did not answer in time
   */
  private Optional<DiscoveredService> describe(
      ManagedChannel channel,
      String endpoint,
      String grpcService,
      ConveyorService service,
      Deadline deadline) {
    ServiceDescriptor description;
    try {
      description =
          ClientCalls.blockingUnaryCall(
              channel,
              service.describe(),
              CallOptions.DEFAULT.withDeadline(deadline),
              DescribeRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
        throw e;
      }
      return Optional.empty(); // listed but refusing Describe: not usable
    }
    if (!NAME.matcher(description.getName()).matches()) {
      return Optional.empty(); // a name pipelines could never refer to
    }
    if (description.getType() != service.type()) {
      // The gRPC service implemented is authoritative on the role.
      description = description.toBuilder().setType(service.type()).build();
    }
    return Optional.of(
        DiscoveredService.newBuilder()
            .setDescription(description)
            .setGrpcService(grpcService)
            .setEndpoint(endpoint)
            .setHealth(health(channel, grpcService, deadline))
            .build());
  }

  private static ServiceHealth health(
      ManagedChannel channel, String grpcService, Deadline deadline) {
    try {
      return toHealth(check(channel, grpcService, deadline));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        // No health service at all: Describe answered, so it serves.
        return ServiceHealth.SERVICE_HEALTH_SERVING;
      }
    }
    try {
      // A health service without a status for this service: the server's overall status ("")
      // speaks for it, e.g. a server that is still starting up says NOT_SERVING there.
      return toHealth(check(channel, "", deadline));
    } catch (StatusRuntimeException e) {
      return ServiceHealth.SERVICE_HEALTH_SERVING;
    }
  }

  private static HealthCheckResponse.ServingStatus check(
      ManagedChannel channel, String service, Deadline deadline) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadline(deadline)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  private static ServiceHealth toHealth(HealthCheckResponse.ServingStatus status) {
    return status == HealthCheckResponse.ServingStatus.NOT_SERVING
        ? ServiceHealth.SERVICE_HEALTH_NOT_SERVING
        : ServiceHealth.SERVICE_HEALTH_SERVING;
  }
}

package io.conveyor.operator.testing;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;

/** Discovered services as a sidecar reports them. */
public final class Services {

  private Services() {}

  public static DiscoveredService source(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SOURCE, "conveyor.etl.v1.SourceService", 50052);
  }

  public static DiscoveredService transform(String name) {
    return service(
        name, ServiceType.SERVICE_TYPE_TRANSFORM, "conveyor.etl.v1.TransformService", 50053);
  }

  public static DiscoveredService sink(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SINK, "conveyor.etl.v1.SinkService", 50054);
  }

  public static DiscoveredService notServing(DiscoveredService service) {
    return service.toBuilder().setHealth(ServiceHealth.SERVICE_HEALTH_NOT_SERVING).build();
  }

  private static DiscoveredService service(String name, ServiceType type, String grpc, int port) {
    return DiscoveredService.newBuilder()
        .setDescription(ServiceDescriptor.newBuilder().setName(name).setType(type))
        .setGrpcService(grpc)
        .setEndpoint("127.0.0.1:" + port)
        .setHealth(ServiceHealth.SERVICE_HEALTH_SERVING)
        .build();
  }
}

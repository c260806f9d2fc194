package io.conveyor.router.testing;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.pipeline.DeliveryOptions;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Builders for the messages and records the router tests talk about. */
public final class Fixtures {

  private Fixtures() {}

  // ---------------------------------------------------------------- services

  public static DiscoveredService source(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SOURCE, ServiceHealth.SERVICE_HEALTH_SERVING);
  }

  public static DiscoveredService transform(String name) {
    return service(name, ServiceType.SERVICE_TYPE_TRANSFORM, ServiceHealth.SERVICE_HEALTH_SERVING);
  }

  public static DiscoveredService sink(String name) {
    return service(name, ServiceType.SERVICE_TYPE_SINK, ServiceHealth.SERVICE_HEALTH_SERVING);
  }

  public static DiscoveredService notServing(DiscoveredService service) {
    return service.toBuilder().setHealth(ServiceHealth.SERVICE_HEALTH_NOT_SERVING).build();
  }

  public static DiscoveredService service(String name, ServiceType type, ServiceHealth health) {
    String grpcService =
        switch (type) {
          case SERVICE_TYPE_SOURCE -> "conveyor.etl.v1.SourceService";
          case SERVICE_TYPE_TRANSFORM -> "conveyor.etl.v1.TransformService";
          case SERVICE_TYPE_SINK -> "conveyor.etl.v1.SinkService";
          default -> "unknown";
        };
    return DiscoveredService.newBuilder()
        .setDescription(ServiceDescriptor.newBuilder().setName(name).setType(type))
        .setGrpcService(grpcService)
        .setEndpoint("127.0.0.1:50052")
        .setHealth(health)
        .build();
  }

  // ---------------------------------------------------------------- sidecars

  /** The data-plane endpoint every fixture sidecar announces: derived from its id. */
  public static String endpointOf(String sidecarId) {
    return sidecarId + ".pods.test:9091";
  }

  /** A registration of sidecar {@code id} in pod {@code pod-<id>} of namespace {@code default}. */
  public static RegisterSidecarRequest registration(String id, DiscoveredService... services) {
    return registration(id, "default", services);
  }

  public static RegisterSidecarRequest registration(
      String id, String namespace, DiscoveredService... services) {
    return RegisterSidecarRequest.newBuilder()
        .setIdentity(
            SidecarIdentity.newBuilder()
                .setSidecarId(id)
                .setPodName("pod-" + id)
                .setNamespace(namespace)
                .setPodUid("uid-" + id)
                .setPodIp("10.0.0.1"))
        .setDataPlaneEndpoint(endpointOf(id))
        .addAllServices(Arrays.asList(services))
        .setSidecarVersion("test")
        .setState(SidecarState.SIDECAR_STATE_SERVING)
        .setHeartbeatIntervalSeconds(5)
        .build();
  }

  public static HeartbeatRequest heartbeat(
      String id, long appliedVersion, DiscoveredService... services) {
    return HeartbeatRequest.newBuilder()
        .setSidecarId(id)
        .setAssignmentVersion(appliedVersion)
        .setState(SidecarState.SIDECAR_STATE_SERVING)
        .addAllServices(Arrays.asList(services))
        .setLoad(SidecarLoad.newBuilder().setInFlightBatches(0))
        .build();
  }

  public static SidecarRecord record(String id, DiscoveredService... services) {
    return record(id, "default", SidecarState.SIDECAR_STATE_SERVING, services);
  }

  public static SidecarRecord record(
      String id, String namespace, SidecarState state, DiscoveredService... services) {
    return new SidecarRecord(
        id,
        namespace,
        "pod-" + id,
        "uid-" + id,
        "10.0.0.1",
        endpointOf(id),
        "test",
        state,
        List.of(services),
        Duration.ofSeconds(5),
        MutableClock.START,
        MutableClock.START,
        SidecarLoad.getDefaultInstance(),
        "");
  }

  /** {@code r} as registered by a sidecar whose certificate names {@code uri}. */
  public static SidecarRecord identified(SidecarRecord r, String uri) {
    return new SidecarRecord(
        r.sidecarId(),
        r.namespace(),
        r.podName(),
        r.podUid(),
        r.podIp(),
        r.dataPlaneEndpoint(),
        r.sidecarVersion(),
        r.state(),
        r.services(),
        r.heartbeatInterval(),
        r.registeredAt(),
        r.lastHeartbeat(),
        r.load(),
        uri);
  }

  // ---------------------------------------------------------------- pipelines

  public static PipelineDefinition pipeline(
      String name, String source, List<String> steps, String sink) {
    return pipeline("default", name, source, steps, sink);
  }

  public static PipelineDefinition pipeline(
      String namespace, String name, String source, List<String> steps, String sink) {
    return new PipelineDefinition(
        namespace, name, 1, source, steps, sink, DeliveryOptions.defaults());
  }

  public static PipelineDefinition withDeadLetter(PipelineDefinition p, String deadLetterSink) {
    DeliveryOptions d = p.delivery();
    return withDelivery(
        p,
        new DeliveryOptions(
            d.maxBatchSize(),
            d.maxRetries(),
            d.retryBackoff(),
            d.batchTimeout(),
            Optional.of(deadLetterSink)));
  }

  /** The same pipeline with other delivery options. */
  public static PipelineDefinition withDelivery(PipelineDefinition p, DeliveryOptions delivery) {
    return new PipelineDefinition(
        p.namespace(), p.name(), p.generation(), p.source(), p.steps(), p.sink(), delivery);
  }

  // ---------------------------------------------------------------- reading assignments

  public static Optional<PipelineAssignment> pipelineIn(AssignmentSet set, String pipeline) {
    return set.getPipelinesList().stream()
        .filter(p -> p.getPipeline().equals(pipeline))
        .findFirst();
  }

  public static StageAssignment stage(PipelineAssignment assignment, String name) {
    return assignment.getStagesList().stream()
        .filter(s -> s.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stage " + name + " in " + assignment));
  }

  /** Sidecar ids of a stage's targets, in the order the router listed them. */
  public static List<String> targetIds(StageAssignment stage) {
    return stage.getTargetsList().stream().map(StageTarget::getSidecarId).toList();
  }

  public static List<AssignmentSet> assigns(List<Command> commands) {
    return commands.stream().filter(Command::hasAssign).map(Command::getAssign).toList();
  }
}

package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.EndpointHealth;
import io.conveyor.sidecar.routing.LocalService;
import io.conveyor.sidecar.routing.Routes;
import io.conveyor.sidecar.routing.TargetSelector;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A sidecar's data plane served in-process: the real DataPlane, PipelineExecutor and
 * GrpcStageClient, with endpoints that are in-process server names.
 */
final class TestSidecar implements AutoCloseable {

  final String id;
  final SidecarConfig config;
  final Routes routes;
  final InFlight inFlight;
  final Lifecycle lifecycle = new Lifecycle();
  final PipelineExecutor executor;
  final DataPlane plane;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final ChannelPool channels;
  private final Server server;
  private final List<Server> stageServers = new ArrayList<>();

  TestSidecar(String id, Map<String, String> env) {
    this.id = id;
    Map<String, String> all = new HashMap<>(env);
    all.put("SIDECAR_ID", id);
    this.config = SidecarConfig.fromEnv(all);
    this.routes = new Routes(id);
    this.inFlight = new InFlight(config.maxInFlightBytes());
    this.channels =
        new ChannelPool(
            endpoint ->
                InProcessChannelBuilder.forName(endpoint).maxInboundMessageSize(16 << 20).build(),
            16);
    this.executor =
        new PipelineExecutor(
            id,
            new GrpcStageClient(channels),
            // Ejections outlast any test: with a 1 s ejection, a test that counts the calls a dead
            // replica got (exactly one) raced the ejection's expiry on a slow machine.
            new TargetSelector(
                new EndpointHealth(
                    System::nanoTime, Duration.ofSeconds(60), Duration.ofSeconds(120))),
            routes,
            timer,
            new SidecarMetrics(meters),
            config.maxMessageBytes());
    this.plane =
        new DataPlane(
            config,
            routes,
            executor,
            inFlight,
            lifecycle,
            new SidecarMetrics(meters),
            () -> {},
            PeerAccess.open());
    this.server = serve(id, plane.service(), config.maxMessageBytes());
    lifecycle.serving();
  }

  TestSidecar(String id) {
    this(id, Map.of());
  }

  /** Serves a user service in-process under {@code name}; closed with this sidecar. */
  String stage(String name, BindableService service) {
    stageServers.add(serve(name, service.bindService(), 16 << 20));
    return name;
  }

  void services(LocalService... services) {
    routes.services(List.of(services));
  }

  void assign(AssignmentSet set) {
    routes.assign(set);
  }

  ManagedChannel channel() {
    return InProcessChannelBuilder.forName(id).build();
  }

  @Override
  public void close() {
    server.shutdownNow();
    stageServers.forEach(Server::shutdownNow);
    channels.close();
    timer.shutdownNow();
  }

  private static Server serve(
      String name, io.grpc.ServerServiceDefinition service, int maxInbound) {
    try {
      return InProcessServerBuilder.forName(name)
          .maxInboundMessageSize(maxInbound)
          .addService(service)
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ builders

  static LocalService source(String name) {
    return new LocalService(name, ServiceType.SERVICE_TYPE_SOURCE, "unused", 0);
  }

  static LocalService transform(String name, String endpoint) {
    return new LocalService(name, ServiceType.SERVICE_TYPE_TRANSFORM, endpoint, 0);
  }

  static LocalService sink(String name, String endpoint) {
    return new LocalService(name, ServiceType.SERVICE_TYPE_SINK, endpoint, 0);
  }

  static AssignmentSet assignment(long version, PipelineAssignment... pipelines) {
    return AssignmentSet.newBuilder()
        .setVersion(version)
        .addAllPipelines(List.of(pipelines))
        .build();
  }

  static PipelineAssignment pipeline(
      String name, DeliveryOptions delivery, StageAssignment... stages) {
    return PipelineAssignment.newBuilder()
        .setPipeline(name)
        .setGeneration(1)
        .setDelivery(delivery)
        .addAllStages(List.of(stages))
        .build();
  }

  static DeliveryOptions delivery(int maxBatchSize, int maxRetries) {
    return DeliveryOptions.newBuilder()
        .setMaxBatchSize(maxBatchSize)
        .setMaxRetries(maxRetries)
        .setRetryBackoffMillis(5)
        .setBatchTimeoutMillis(10_000)
        .build();
  }

  /** A stage run by the given sidecars (their ids double as in-process endpoints). */
  static StageAssignment stage(
      int index, String name, StageRole role, TestSidecar self, TestSidecar... runners) {
    StageAssignment.Builder stage =
        StageAssignment.newBuilder().setIndex(index).setName(name).setRole(role);
    for (TestSidecar runner : runners) {
      stage.addTargets(
          StageTarget.newBuilder()
              .setSidecarId(runner.id)
              .setEndpoint(runner.id)
              .setPodName("pod-" + runner.id));
      if (runner == self) {
        stage.setLocal(true);
      }
    }
    return stage.build();
  }

  /** A stage run by sidecars that are only endpoints (e.g. dead ones). */
  static StageAssignment remoteStage(int index, String name, StageRole role, String... endpoints) {
    StageAssignment.Builder stage =
        StageAssignment.newBuilder().setIndex(index).setName(name).setRole(role);
    for (String endpoint : endpoints) {
      stage.addTargets(
          StageTarget.newBuilder()
              .setSidecarId(endpoint)
              .setEndpoint(endpoint)
              .setPodName(endpoint));
    }
    return stage.build();
  }

  static RecordBatch batch(String batchId, long firstSequence, int count, int payloadBytes) {
    RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId(batchId);
    for (int i = 0; i < count; i++) {
      batch.addRecords(record(firstSequence + i, payloadBytes));
    }
    return batch.build();
  }

  static Record record(long sequence, int payloadBytes) {
    byte[] payload = new byte[payloadBytes];
    java.util.Arrays.fill(payload, (byte) ('a' + sequence % 26));
    return Record.newBuilder()
        .setId(RecordId.newBuilder().setSourceId("test-source").setSequence(sequence))
        .setPayload(com.google.protobuf.ByteString.copyFrom(payload))
        .build();
  }

  static void awaitQuiet(long millis) throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(millis);
  }
}

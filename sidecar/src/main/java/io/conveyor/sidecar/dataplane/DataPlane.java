package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.ForwardBatchResponse;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.Routes;
import io.conveyor.sidecar.routing.StageRoute;
import io.conveyor.sidecar.wire.WireMethods;
import io.conveyor.sidecar.wire.v1.ForwardBatchRequestView;
import io.conveyor.sidecar.wire.v1.PushRequestView;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Timer;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The sidecar's {@code conveyor.etl.v1.SidecarDataPlane}: push streams from local sources and
 * batches forwarded by other sidecars, both handed to the {@link PipelineExecutor}.
 */
public final class DataPlane {

  private static final Logger log = LoggerFactory.getLogger(DataPlane.class);

  /**
   * The transport's own message limit, a multiple of MAX_MESSAGE_BYTES. Messages between the two
   * are read and refused by the data plane with RESOURCE_EXHAUSTED and a clear message; past this
   * one grpc-java resets the stream, which a client of a bidi stream sees as CANCELLED
   * (grpc/grpc-java#11245).
   */
  public static int transportMessageLimit(int maxMessageBytes) {
    return (int) Math.min(Integer.MAX_VALUE, 2L * maxMessageBytes);
  }

  /** Part of a caller's deadline kept back so that the answer reaches it before it gives up. */
  private static final long MAX_DEADLINE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final SidecarConfig config;
  private final Routes routes;
  private final PipelineExecutor executor;
  private final InFlight inFlight;
  private final Lifecycle lifecycle;
  private final SidecarMetrics metrics;
  private final Runnable discoveryTrigger;
  private final PushStreams pushStreams = new PushStreams();
  private final PeerAccess peerAccess;

  /**
   * @param peerAccess who may forward batches into which stage
   */
  public DataPlane(
      SidecarConfig config,
      Routes routes,
      PipelineExecutor executor,
      InFlight inFlight,
      Lifecycle lifecycle,
      SidecarMetrics metrics,
      Runnable discoveryTrigger,
      PeerAccess peerAccess) {
    this.peerAccess = peerAccess;
    this.config = config;
    this.routes = routes;
    this.executor = executor;
    this.inFlight = inFlight;
    this.lifecycle = lifecycle;
    this.metrics = metrics;
    this.discoveryTrigger = discoveryTrigger;
  }

  /** The gRPC service, typed with the wire views. */
  public ServerServiceDefinition service() {
    return ServerServiceDefinition.builder(WireMethods.dataPlaneService())
        .addMethod(
            WireMethods.PUSH_RECORDS,
            ServerCalls.asyncBidiStreamingCall(
                responses ->
                    new PushStream(this, (ServerCallStreamObserver<PushResponse>) responses)))
        .addMethod(WireMethods.FORWARD_BATCH, ServerCalls.asyncUnaryCall(this::forwardBatch))
        .build();
  }

  /**
   * What GRPC_PORT serves, on the pod's loopback: PushRecords from the pod's own sources.
   * ForwardBatch is refused there: it comes from other sidecars, over mutual TLS, on PEER_PORT.
   */
  public ServerServiceDefinition localService() {
    return ServerServiceDefinition.builder(WireMethods.dataPlaneService())
        .addMethod(
            WireMethods.PUSH_RECORDS,
            ServerCalls.asyncBidiStreamingCall(
                responses ->
                    new PushStream(this, (ServerCallStreamObserver<PushResponse>) responses)))
        .addMethod(
            WireMethods.FORWARD_BATCH,
            ServerCalls.asyncUnaryCall(
                (request, responses) ->
                    responses.onError(
                        peerAccess.notServedHere(
                            "ForwardBatch",
                            "ForwardBatch is served to other sidecars on their peer port, not to"
                                + " the pod's own processes"))))
        .build();
  }

  /**
   * What PEER_PORT serves, on the network: ForwardBatch from the sidecars placed upstream.
   * PushRecords is refused there: only the pod's own processes push, over loopback.
   */
  public ServerServiceDefinition peerService() {
    return ServerServiceDefinition.builder(WireMethods.dataPlaneService())
        .addMethod(
            WireMethods.PUSH_RECORDS,
            ServerCalls.asyncBidiStreamingCall(
                responses -> {
                  responses.onError(
                      peerAccess.notServedHere(
                          "PushRecords",
                          "PushRecords is served only to the pod's own processes, over loopback"));
                  return new StreamObserver<PushRequestView>() {
                    @Override
                    public void onNext(PushRequestView ignored) {}

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  };
                }))
        .addMethod(WireMethods.FORWARD_BATCH, ServerCalls.asyncUnaryCall(this::forwardBatch))
        .build();
  }

  /** Sidecar-to-sidecar: runs stage {@code stage_index} and everything after it, then answers. */
  void forwardBatch(
      ForwardBatchRequestView request, StreamObserver<ForwardBatchResponse> responses) {
    // One snapshot of the routing table: the caller is authorized against the route it is served
    // by.
    Optional<PipelineRoute> route = routes.table().pipeline(request.getPipeline());
    Optional<StatusRuntimeException> refusal =
        peerAccess.forwardBatch(
            route
                .filter(r -> r.hasStage(request.getStageIndex()))
                .map(r -> r.stage(request.getStageIndex())));
    if (refusal.isPresent()) {
      metrics.rejected("unauthorized");
      responses.onError(refusal.get());
      return;
    }
    if (lifecycle.isDraining()) {
      refuseDraining(responses);
      return;
    }
    if (lifecycle.isStarting()) {
      // Restarted and not registered yet: a transient state, unlike a stage that is not here.
      metrics.rejected("starting");
      responses.onError(
          Status.UNAVAILABLE
              .withDescription(
                  "sidecar " + config.sidecarId() + " is starting and not registered yet")
              .asRuntimeException());
      return;
    }
    Optional<String> problem = checkStage(route, request);
    if (problem.isPresent()) {
      metrics.rejected("not_assigned");
      responses.onError(
          Status.FAILED_PRECONDITION.withDescription(problem.get()).asRuntimeException());
      return;
    }
    if (request.getSerializedSize() > config.maxMessageBytes()) {
      metrics.rejected("too_large");
      responses.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  "batch of "
                      + request.getSerializedSize()
                      + " bytes is over this sidecar's MAX_MESSAGE_BYTES of "
                      + config.maxMessageBytes())
              .asRuntimeException());
      return;
    }
    if (request.getBatch().getRecordsCount() == 0) {
      responses.onNext(ForwardBatchResponse.getDefaultInstance());
      responses.onCompleted();
      return;
    }
    // The wire size, already computed (and memoized) for the size check above.
    long bytes = request.getSerializedSize();
    if (!inFlight.tryAcquire(bytes)) {
      metrics.rejected("over_limit");
      metrics.backpressure();
      responses.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  "sidecar "
                      + config.sidecarId()
                      + " holds "
                      + inFlight.bytes()
                      + " of its "
                      + inFlight.limitBytes()
                      + " in-flight bytes; retry later or elsewhere")
              .asRuntimeException());
      return;
    }
    // Checked again now that the batch counts as in flight, as PushStream does: a drain that
    // began after the first check is either waiting for this batch, or it is refused here; none
    // runs after the drain stopped waiting, when its answer could no longer be sent.
    if (lifecycle.isDraining()) {
      releaseBytes(bytes);
      refuseDraining(responses);
      return;
    }
    PipelineRoute r = route.get();
    executor
        .deliver(r, request.getStageIndex(), request.getBatch().getRecordsList(), deadlineFor(r))
        .whenComplete(
            (outcome, error) -> {
              // Answered before it stops counting as in flight (see PushStream#ack).
              if (error != null) {
                responses.onError(
                    Status.INTERNAL.withDescription(String.valueOf(error)).asRuntimeException());
              } else {
                responses.onNext(
                    ForwardBatchResponse.newBuilder().setResult(outcome.toProto()).build());
                responses.onCompleted();
              }
              releaseBytes(bytes);
            });
  }

  private void refuseDraining(StreamObserver<ForwardBatchResponse> responses) {
    metrics.rejected("draining");
    responses.onError(
        Status.UNAVAILABLE
            .withDescription("sidecar " + config.sidecarId() + " is draining")
            .asRuntimeException());
  }

  private void releaseBytes(long bytes) {
    if (inFlight.release(bytes)) {
      pushStreams.relieve();
    }
  }

  private Optional<String> checkStage(
      Optional<PipelineRoute> route, ForwardBatchRequestView request) {
    if (route.isEmpty()) {
      return Optional.of(
          "pipeline '"
              + request.getPipeline()
              + "' is not assigned to sidecar "
              + config.sidecarId());
    }
    if (!route.get().hasStage(request.getStageIndex()) || request.getStageIndex() == 0) {
      return Optional.of(
          "pipeline '"
              + request.getPipeline()
              + "' has no stage "
              + request.getStageIndex()
              + " to forward to");
    }
    StageRoute stage = route.get().stage(request.getStageIndex());
    if (!stage.name().equals(request.getStage())) {
      return Optional.of(
          "stage "
              + request.getStageIndex()
              + " of pipeline '"
              + request.getPipeline()
              + "' is '"
              + stage.name()
              + "' here, not '"
              + request.getStage()
              + "'");
    }
    if (!stage.isLocal()) {
      return Optional.of(
          "stage '"
              + stage.name()
              + "' of pipeline '"
              + request.getPipeline()
              + "' does not run in the pod of sidecar "
              + config.sidecarId());
    }
    return Optional.empty();
  }

  /** The caller's deadline less a margin, or the pipeline's batch timeout if it set none. */
  private static Deadline deadlineFor(PipelineRoute route) {
    Deadline callerDeadline = Context.current().getDeadline();
    if (callerDeadline == null) {
      return Deadline.after(route.delivery().batchTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }
    long remaining = callerDeadline.timeRemaining(TimeUnit.NANOSECONDS);
    long margin = Math.min(remaining / 10, MAX_DEADLINE_MARGIN_NANOS);
    return Deadline.after(Math.max(0, remaining - margin), TimeUnit.NANOSECONDS);
  }

  /**
   * The router took {@code pipeline} away from this sidecar ({@code RevokePipeline}). From now on
   * it is refused as an unassigned pipeline is — new push streams, batches on open ones, batches
   * forwarded by other sidecars — until the router's next assignment set, which is authoritative
   * again. Its batches under way finish and are answered ({@code drain}), or are answered at once
   * with every record failed retryably, their calls and retries stopped, so that their sources send
   * them again elsewhere. A batch admitted at the very moment of the revoke may still finish as
   * with drain; every batch is answered exactly once either way.
   */
  public void revoke(String pipeline, boolean drain, String reason) {
    routes.revoke(pipeline);
    int batches =
        drain
            ? executor.batchesInFlight(pipeline)
            : executor.abort(
                pipeline,
                "pipeline '"
                    + pipeline
                    + "' was revoked from sidecar "
                    + config.sidecarId()
                    + " without drain ("
                    + reason
                    + "); send again");
    try (MDC.MDCCloseable p = MDC.putCloseable("pipeline", pipeline)) {
      log.info(
          "pipeline '{}' revoked (drain={}): {}; refusing its batches, {} under way {}",
          pipeline,
          drain,
          reason,
          batches,
          drain ? "finish" : "failed for a re-send");
    }
  }

  /** Ends every push stream; called at shutdown once in-flight batches were answered. */
  public void closePushStreams() {
    pushStreams.shutdownAll();
  }

  public int pushStreamCount() {
    return pushStreams.size();
  }

  // --- for PushStream

  SidecarConfig config() {
    return config;
  }

  String sidecarId() {
    return config.sidecarId();
  }

  Routes routes() {
    return routes;
  }

  PipelineExecutor executor() {
    return executor;
  }

  InFlight inFlight() {
    return inFlight;
  }

  Lifecycle lifecycle() {
    return lifecycle;
  }

  PushStreams pushStreams() {
    return pushStreams;
  }

  void rejected(String reason) {
    metrics.rejected(reason);
  }

  void backpressure() {
    metrics.backpressure();
  }

  void requestDiscovery() {
    discoveryTrigger.run();
  }

  Timer pushLatency(String pipeline) {
    return metrics.pushLatency(pipeline);
  }
}

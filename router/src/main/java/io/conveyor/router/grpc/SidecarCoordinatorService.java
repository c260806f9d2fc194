package io.conveyor.router.grpc;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.DeregisterSidecarResponse;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.UnknownSidecarException;
import io.conveyor.router.registry.SidecarRegistry;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The {@code conveyor.etl.v1.SidecarCoordinator} gRPC service: translates calls to {@link
 * RouterCore} operations and core errors to gRPC statuses (unknown sidecar → NOT_FOUND, malformed
 * request → INVALID_ARGUMENT, registry full → RESOURCE_EXHAUSTED).
 */
public final class SidecarCoordinatorService
    extends SidecarCoordinatorGrpc.SidecarCoordinatorImplBase {

  private static final Logger log = LoggerFactory.getLogger(SidecarCoordinatorService.class);

  private final RouterCore core;
  private final WatchStream.FlushScheduler flushScheduler;
  private final Duration minAssignInterval;
  private final RouterMetrics metrics;
  private final CoordinatorAccess access;

  /**
   * @param timer schedules the delayed pushes of paced watch streams
   * @param flusher runs them
   * @param minAssignInterval least time between two assignment sets on one watch stream
   */
  public SidecarCoordinatorService(
      RouterCore core,
      MeterRegistry meters,
      ScheduledExecutorService timer,
      Executor flusher,
      Duration minAssignInterval) {
    this(
        core,
        new RouterMetrics(meters),
        timer,
        flusher,
        minAssignInterval,
        CoordinatorAccess.open());
  }

  SidecarCoordinatorService(
      RouterCore core,
      RouterMetrics metrics,
      ScheduledExecutorService timer,
      Executor flusher,
      Duration minAssignInterval,
      CoordinatorAccess access) {
    this.core = core;
    this.access = access;
    this.metrics = metrics;
    this.flushScheduler = WatchStream.FlushScheduler.on(timer, flusher);
    this.minAssignInterval = minAssignInterval;
  }

  @Override
  public void registerSidecar(
      RegisterSidecarRequest request, StreamObserver<RegisterSidecarResponse> responses) {
    String id = request.getIdentity().getSidecarId();
    try (MDC.MDCCloseable ignored = MDC.putCloseable("sidecar", id)) {
      CoordinatorAccess.Result allowed =
          access.register(request.getIdentity().getNamespace(), request.getIdentity().getPodName());
      if (allowed.refusal().isPresent()) {
        responses.onError(allowed.refusal().get());
        return;
      }
      // Answered when the registration is planned, on the thread that planned it (see
      // RouterCore.registerAsync), which may be another call's: the reply is made in this call's
      // gRPC context (whose caller a refusal names) and with this sidecar in the MDC.
      Context context = Context.current();
      core.registerAsync(request, allowed.identity())
          .whenComplete(
              (response, failure) -> reply(context, id, request, response, failure, responses));
    } catch (IllegalArgumentException e) {
      refuse(e, responses);
    }
  }

  private void reply(
      Context context,
      String id,
      RegisterSidecarRequest request,
      RegisterSidecarResponse response,
      Throwable failure,
      StreamObserver<RegisterSidecarResponse> responses) {
    Context previous = context.attach();
    String previousSidecar = MDC.get("sidecar");
    MDC.put("sidecar", id);
    try {
      if (failure != null) {
        refuse(failure, responses);
      } else {
        registered(request, response);
        responses.onNext(response);
        responses.onCompleted();
      }
    } catch (RuntimeException e) { // whenComplete would keep it to itself: the call must end
      log.error("answering a registration failed", e);
      try {
        responses.onError(
            Status.INTERNAL.withDescription("registration failed").asRuntimeException());
      } catch (RuntimeException alreadyClosed) {
        log.debug("the registration call was already closed", alreadyClosed);
      }
    } finally {
      if (previousSidecar == null) {
        MDC.remove("sidecar");
      } else {
        MDC.put("sidecar", previousSidecar);
      }
      context.detach(previous);
    }
  }

  private void registered(RegisterSidecarRequest request, RegisterSidecarResponse response) {
    metrics.registrations.increment();
    AssignmentSet set = response.getAssignments();
    log.info(
        "registered sidecar of pod {}/{} at {} with services {}; {}",
        request.getIdentity().getNamespace(),
        request.getIdentity().getPodName(),
        request.getDataPlaneEndpoint(),
        request.getServicesList().stream().map(s -> s.getDescription().getName()).toList(),
        set.getVersion() == 0
            ? "assignments held back during the warm-up until its pipelines have every stage served"
            : "assignment version "
                + set.getVersion()
                + " ("
                + set.getPipelinesCount()
                + " pipelines)");
  }

  /** A registration the core refused, answered with its status; anything else is INTERNAL. */
  private void refuse(Throwable failure, StreamObserver<RegisterSidecarResponse> responses) {
    if (failure instanceof IllegalArgumentException e) {
      metrics.registrationsRefused(RouterMetrics.REFUSED_INVALID).increment();
      responses.onError(
          Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
    } else if (failure instanceof SidecarRegistry.ForeignClaimException e) {
      Status refusal = Status.PERMISSION_DENIED.withDescription(e.getMessage());
      access.refused("RegisterSidecar", refusal);
      responses.onError(refusal.asRuntimeException());
    } else if (failure instanceof SidecarRegistry.RegistryFullException e) {
      metrics.registrationsRefused(RouterMetrics.REFUSED_REGISTRY_FULL).increment();
      responses.onError(
          Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
    } else {
      log.error("registration failed", failure);
      responses.onError(
          Status.INTERNAL.withDescription("registration failed").asRuntimeException());
    }
  }

  @Override
  public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> responses) {
    Optional<StatusRuntimeException> refusal = authorize("Heartbeat", request.getSidecarId());
    if (refusal.isPresent()) {
      responses.onError(refusal.get());
      return;
    }
    try {
      HeartbeatResponse response = core.heartbeat(request);
      metrics.heartbeats.increment();
      responses.onNext(response);
      responses.onCompleted();
    } catch (UnknownSidecarException e) {
      metrics.unknownSidecarCalls.increment();
      responses.onError(notFound(e));
    }
  }

  @Override
  public void watchAssignments(
      WatchAssignmentsRequest request, StreamObserver<AssignmentUpdate> responses) {
    ServerCallStreamObserver<AssignmentUpdate> stream =
        (ServerCallStreamObserver<AssignmentUpdate>) responses;
    Optional<StatusRuntimeException> refusal =
        authorize("WatchAssignments", request.getSidecarId());
    if (refusal.isPresent()) {
      stream.onError(refusal.get());
      return;
    }
    WatchStream subscriber =
        new WatchStream(
            request.getSidecarId(),
            stream,
            flushScheduler,
            System::nanoTime,
            minAssignInterval,
            metrics.droppedWatchCommands,
            request.getAcceptsDeltas(),
            metrics.assignmentPushes);
    try {
      Runnable unsubscribe =
          core.watch(request.getSidecarId(), request.getKnownVersion(), subscriber);
      stream.setOnCancelHandler(
          () -> {
            unsubscribe.run();
            subscriber.cancelled();
          });
      stream.setOnCloseHandler(unsubscribe);
      stream.setOnReadyHandler(subscriber::flush);
    } catch (UnknownSidecarException e) {
      metrics.unknownSidecarCalls.increment();
      stream.onError(notFound(e));
    }
  }

  @Override
  public void deregisterSidecar(
      DeregisterSidecarRequest request, StreamObserver<DeregisterSidecarResponse> responses) {
    try (MDC.MDCCloseable ignored = MDC.putCloseable("sidecar", request.getSidecarId())) {
      Optional<StatusRuntimeException> refusal =
          authorize("DeregisterSidecar", request.getSidecarId());
      if (refusal.isPresent()) {
        responses.onError(refusal.get());
        return;
      }
      if (core.deregister(request.getSidecarId())) {
        metrics.deregistrations.increment();
        log.info("sidecar deregistered: {}", request.getReason());
      }
      responses.onNext(DeregisterSidecarResponse.getDefaultInstance());
      responses.onCompleted();
    }
  }

  /**
   * A call naming a sidecar id: the caller must prove a workload before anything is looked up, and
   * the sidecar, if the router knows it, must be its pod's. An unknown id goes on to the core,
   * which answers NOT_FOUND as before.
   */
  private Optional<StatusRuntimeException> authorize(String method, String sidecarId) {
    Optional<StatusRuntimeException> refusal = access.beforeLookup(method);
    if (refusal.isPresent()) {
      return refusal;
    }
    return core.sidecar(sidecarId).flatMap(record -> access.ownSidecar(method, record));
  }

  private static StatusRuntimeException notFound(UnknownSidecarException e) {
    return Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException();
  }
}

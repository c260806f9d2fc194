package io.conveyor.sidecar.cluster;

import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The calls of {@code SidecarCoordinator} on the channel to the router, and nothing else: no state,
 * no policy.
 *
 * <p>Every call starts in a context derived from {@link Context#ROOT}. The client's tasks run on
 * whichever thread drains its synchronization context, which may be inside the callback of another
 * call; a call started there would inherit that call's context and be cancelled with it (the watch
 * stream is cancelled on purpose when a registration ends).
 */
final class RouterConnection {

  /** Deadline of a registration, and the most a heartbeat may take. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  private final Channel channel;
  private final SidecarCoordinatorGrpc.SidecarCoordinatorStub stub;
  private final SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub blockingStub;

  RouterConnection(Channel channel) {
    this.channel = channel;
    this.stub = SidecarCoordinatorGrpc.newStub(channel);
    this.blockingStub = SidecarCoordinatorGrpc.newBlockingStub(channel);
  }

  void register(RegisterSidecarRequest request, StreamObserver<RegisterSidecarResponse> responses) {
    Context.ROOT.run(
        () ->
            stub.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .registerSidecar(request, responses));
  }

  void heartbeat(
      HeartbeatRequest request, Duration timeout, StreamObserver<HeartbeatResponse> responses) {
    Context.ROOT.run(
        () ->
            stub.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .heartbeat(request, responses));
  }

  /** Opens the watch stream; cancelling the returned context ends it. */
  Context.CancellableContext watch(
      WatchAssignmentsRequest request, StreamObserver<AssignmentUpdate> updates) {
    Context.CancellableContext call = Context.ROOT.withCancellation();
    call.run(() -> stub.watchAssignments(request, updates));
    return call;
  }

  /**
   * Blocks for at most {@code timeout}.
   *
   * @throws io.grpc.StatusRuntimeException when the router did not answer OK
   */
  void deregister(DeregisterSidecarRequest request, Duration timeout) {
    Context.ROOT.run(
        () ->
            blockingStub
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .deregisterSidecar(request));
  }

  /**
   * Lets the next call connect at once instead of waiting out the channel's own reconnect backoff,
   * which grows to two minutes while the router is away: the client's retries (capped at 10 s) and
   * heartbeats set the pace, so the router is found again soon after it comes back.
   */
  void reconnectNow() {
    if (channel instanceof ManagedChannel managed) {
      managed.resetConnectBackoff();
    }
  }

  static String describe(Status status) {
    return status.getDescription() == null
        ? status.getCode().name()
        : status.getCode() + ": " + status.getDescription();
  }
}

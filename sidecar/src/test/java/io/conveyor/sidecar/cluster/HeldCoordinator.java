package io.conveyor.sidecar.cluster;

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
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A coordinator that answers registrations at once but holds every heartbeat and watch stream until
 * the test answers it, in-process. The real router answers as soon as it can; this one lets a test
 * deliver an answer late, after the client has moved on to a newer registration.
 */
final class HeldCoordinator extends SidecarCoordinatorGrpc.SidecarCoordinatorImplBase
    implements AutoCloseable {

  static final int HEARTBEAT_SECONDS = 60;

  final AtomicInteger registrations = new AtomicInteger();
  final BlockingQueue<StreamObserver<HeartbeatResponse>> heartbeats = new LinkedBlockingQueue<>();
  final BlockingQueue<StreamObserver<AssignmentUpdate>> watches = new LinkedBlockingQueue<>();
  private final String name = InProcessServerBuilder.generateName();
  private final Server server;

  HeldCoordinator() {
    try {
      server =
          InProcessServerBuilder.forName(name).directExecutor().addService(this).build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  ManagedChannel channel() {
    return InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  /** The assignment version a registration hands out: 100, 200, ... one block per registration. */
  static long versionOfRegistration(int registration) {
    return 100L * registration;
  }

  @Override
  public void registerSidecar(
      RegisterSidecarRequest request, StreamObserver<RegisterSidecarResponse> responses) {
    int registration = registrations.incrementAndGet();
    responses.onNext(
        RegisterSidecarResponse.newBuilder()
            .setAssignments(
                AssignmentSet.newBuilder().setVersion(versionOfRegistration(registration)))
            .setHeartbeatIntervalSeconds(HEARTBEAT_SECONDS)
            .setRouterInstanceId("held-" + registration)
            .build());
    responses.onCompleted();
  }

  @Override
  public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> responses) {
    heartbeats.add(responses);
  }

  @Override
  public void watchAssignments(
      WatchAssignmentsRequest request, StreamObserver<AssignmentUpdate> updates) {
    watches.add(updates);
  }

  @Override
  public void deregisterSidecar(
      DeregisterSidecarRequest request, StreamObserver<DeregisterSidecarResponse> responses) {
    responses.onNext(DeregisterSidecarResponse.getDefaultInstance());
    responses.onCompleted();
  }

  /** The next call the client opened, waiting for it at most {@code timeout}. */
  static <T> StreamObserver<T> next(BlockingQueue<StreamObserver<T>> calls, Duration timeout)
      throws InterruptedException {
    StreamObserver<T> call = calls.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (call == null) {
      throw new AssertionError("the client opened no call within " + timeout);
    }
    return call;
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}

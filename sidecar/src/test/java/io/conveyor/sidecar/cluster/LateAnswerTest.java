package io.conveyor.sidecar.cluster;

import static io.conveyor.sidecar.cluster.ClusterSidecar.source;
import static io.conveyor.sidecar.cluster.HeldCoordinator.next;
import static io.conveyor.sidecar.cluster.HeldCoordinator.versionOfRegistration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An answer that belongs to a registration the client has left behind arrives after the newer one:
 * it must change nothing. The coordinator holds heartbeats and watch streams so that the test
 * decides when (and in which order) answers arrive.
 */
class LateAnswerTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  /** Long enough for a wrongly acted-on answer to show as a registration or a changed version. */
  private static final Duration QUIET = Duration.ofMillis(500);

  private HeldCoordinator coordinator;
  private ClusterSidecar sidecar;

  @BeforeEach
  void registerTwice() throws InterruptedException {
    coordinator = new HeldCoordinator();
    sidecar =
        new ClusterSidecar(
                "sc-late", coordinator.channel(), HeldCoordinator.HEARTBEAT_SECONDS, source("a"))
            .start();
    await().atMost(WAIT).until(() -> sidecar.client.state() == ClusterState.REGISTERED);
    assertThat(sidecar.client.appliedVersion()).isEqualTo(versionOfRegistration(1));
  }

  @AfterEach
  void close() {
    sidecar.close();
    coordinator.close();
  }

  /** Holds a heartbeat of the first registration, then moves the client to a second one. */
  private StreamObserver<HeartbeatResponse> heldHeartbeatOfAnEndedRegistration()
      throws InterruptedException {
    sidecar.client.heartbeatNow();
    StreamObserver<HeartbeatResponse> heldHeartbeat = next(coordinator.heartbeats, WAIT);
    StreamObserver<AssignmentUpdate> firstWatch = next(coordinator.watches, WAIT);

    firstWatch.onError(Status.NOT_FOUND.withDescription("expired").asRuntimeException());

    await().atMost(WAIT).until(() -> coordinator.registrations.get() == 2);
    await().atMost(WAIT).until(() -> sidecar.client.state() == ClusterState.REGISTERED);
    assertThat(sidecar.client.appliedVersion()).isEqualTo(versionOfRegistration(2));
    assertThat(sidecar.registeredWith).containsExactly("held-1", "held-2");
    return heldHeartbeat;
  }

  @Test
  void aLateUnknownSidecarAnswerDoesNotEndTheNewerRegistration() throws InterruptedException {
    StreamObserver<HeartbeatResponse> late = heldHeartbeatOfAnEndedRegistration();

    late.onError(Status.NOT_FOUND.withDescription("not registered").asRuntimeException());

    await()
        .during(QUIET)
        .atMost(WAIT)
        .until(
            () ->
                coordinator.registrations.get() == 2
                    && sidecar.client.state() == ClusterState.REGISTERED);
    assertThat(sidecar.registeredWith).containsExactly("held-1", "held-2");
  }

  @Test
  void aLateAssignmentDoesNotReplaceTheNewerRegistrationsSet() throws InterruptedException {
    StreamObserver<HeartbeatResponse> late = heldHeartbeatOfAnEndedRegistration();

    // Newer by number than what the second registration handed out, but from the first one.
    late.onNext(
        HeartbeatResponse.newBuilder()
            .addCommands(
                Command.newBuilder()
                    .setAssign(AssignmentSet.newBuilder().setVersion(versionOfRegistration(1) + 1)))
            .addCommands(
                Command.newBuilder()
                    .setAssign(AssignmentSet.newBuilder().setVersion(versionOfRegistration(2) + 1)))
            .build());
    late.onCompleted();

    await()
        .during(QUIET)
        .atMost(WAIT)
        .until(() -> sidecar.client.appliedVersion() == versionOfRegistration(2));
    assertThat(sidecar.routes.assignments().getVersion()).isEqualTo(versionOfRegistration(2));
  }

  @Test
  void theEndOfAStreamTheClientCancelledIsNotTakenForTheRouterForgettingIt()
      throws InterruptedException {
    StreamObserver<AssignmentUpdate> firstWatch = next(coordinator.watches, WAIT);

    sidecar.client.close();
    // What the router's side does after the client cancelled: its stream ends.
    firstWatch.onError(Status.NOT_FOUND.withDescription("expired").asRuntimeException());

    await()
        .during(QUIET)
        .atMost(WAIT)
        .until(
            () ->
                coordinator.registrations.get() == 1
                    && sidecar.client.state() == ClusterState.CLOSED);
  }
}

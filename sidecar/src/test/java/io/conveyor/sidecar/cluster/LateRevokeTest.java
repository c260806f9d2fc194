package io.conveyor.sidecar.cluster;

import static io.conveyor.sidecar.cluster.ClusterSidecar.source;
import static io.conveyor.sidecar.cluster.HeldCoordinator.next;
import static io.conveyor.sidecar.cluster.HeldCoordinator.versionOfRegistration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.RevokePipeline;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The router delivers pushes outside its lock, so a revoke can reach the sidecar after a newer set.
 * A revoke names the set that dropped the pipeline; one for a set the sidecar has already passed is
 * ignored, or the pipeline would stay out although the router lists it again.
 */
class LateRevokeTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  private HeldCoordinator coordinator;
  private ClusterSidecar sidecar;
  private StreamObserver<AssignmentUpdate> watch;

  @BeforeEach
  void register() throws InterruptedException {
    coordinator = new HeldCoordinator();
    sidecar =
        new ClusterSidecar(
                "sc-revoke", coordinator.channel(), HeldCoordinator.HEARTBEAT_SECONDS, source("a"))
            .start();
    await().atMost(WAIT).until(() -> sidecar.client.state() == ClusterState.REGISTERED);
    watch = next(coordinator.watches, WAIT);
  }

  @AfterEach
  void close() {
    sidecar.close();
    coordinator.close();
  }

  private static AssignmentUpdate update(Command... commands) {
    AssignmentUpdate.Builder update = AssignmentUpdate.newBuilder();
    for (Command command : commands) {
      update.addCommands(command);
    }
    return update.build();
  }

  private static Command revoke(String pipeline, long forVersion) {
    return Command.newBuilder()
        .setRevoke(
            RevokePipeline.newBuilder()
                .setPipeline(pipeline)
                .setDrain(true)
                .setReason("removed")
                .setAssignmentVersion(forVersion))
        .build();
  }

  private static Command assign(long version) {
    return Command.newBuilder().setAssign(AssignmentSet.newBuilder().setVersion(version)).build();
  }

  @Test
  void aRevokeForASetAlreadyPassedIsIgnored() {
    long applied = versionOfRegistration(1);
    watch.onNext(update(assign(applied + 2)));
    await().atMost(WAIT).until(() -> sidecar.client.appliedVersion() == applied + 2);

    // The revoke that went with set applied+1, delivered after applied+2.
    watch.onNext(update(revoke("orders", applied + 1), assign(applied + 1)));
    watch.onNext(update(revoke("refunds", applied + 3), assign(applied + 3)));

    await().atMost(WAIT).until(() -> sidecar.client.appliedVersion() == applied + 3);
    assertThat(sidecar.revokes)
        .extracting(ClusterSidecar.Revoke::pipeline)
        .containsExactly("refunds");
  }

  @Test
  void aRevokeWithoutAVersionIsActedOn() {
    watch.onNext(update(revoke("orders", 0)));

    await().atMost(WAIT).until(() -> !sidecar.revokes.isEmpty());
    assertThat(sidecar.revokes)
        .extracting(ClusterSidecar.Revoke::pipeline)
        .containsExactly("orders");
  }
}

package io.conveyor.sidecar.cluster;

import static io.conveyor.sidecar.cluster.ClusterState.CLOSED;
import static io.conveyor.sidecar.cluster.ClusterState.REGISTERED;
import static io.conveyor.sidecar.cluster.ClusterState.REGISTERING;
import static io.conveyor.sidecar.cluster.ClusterState.RE_REGISTERING;
import static io.conveyor.sidecar.cluster.ClusterState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClusterStateTest {

  private static Set<ClusterState> reachableFrom(ClusterState from) {
    Set<ClusterState> next = EnumSet.noneOf(ClusterState.class);
    for (ClusterState to : ClusterState.values()) {
      if (from.canMoveTo(to)) {
        next.add(to);
      }
    }
    return next;
  }

  @Test
  void registrationGoesForwardAndOnlyTheRouterForgettingUsLeadsBack() {
    assertThat(reachableFrom(STARTING)).containsExactlyInAnyOrder(REGISTERING, CLOSED);
    assertThat(reachableFrom(REGISTERING)).containsExactlyInAnyOrder(REGISTERED, CLOSED);
    assertThat(reachableFrom(REGISTERED)).containsExactlyInAnyOrder(RE_REGISTERING, CLOSED);
    assertThat(reachableFrom(RE_REGISTERING)).containsExactlyInAnyOrder(REGISTERED, CLOSED);
  }

  @Test
  void closedIsFinal() {
    assertThat(reachableFrom(CLOSED)).isEmpty();
  }
}

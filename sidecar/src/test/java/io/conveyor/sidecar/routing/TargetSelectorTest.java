package io.conveyor.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which replica of a stage a batch goes to. */
class TargetSelectorTest {

  private static final RemoteTarget A = new RemoteTarget("sc-a", "sc-a.pods:9091", "pod-a");
  private static final RemoteTarget B = new RemoteTarget("sc-b", "sc-b.pods:9091", "pod-b");
  private static final RemoteTarget C = new RemoteTarget("sc-c", "sc-c.pods:9091", "pod-c");
  private static final List<RemoteTarget> REPLICAS = List.of(A, B, C);

  private final FakeNanoClock clock = new FakeNanoClock(42_000_000_000L);
  private final EndpointHealth health =
      new EndpointHealth(clock, Duration.ofSeconds(1), Duration.ofSeconds(30));
  private final TargetSelector selector = new TargetSelector(health);

  @Test
  void theLeastLoadedReplicaIsPickedEveryTime() {
    busy(A, 2);
    busy(C, 1);

    for (int i = 0; i < 5; i++) {
      assertThat(selector.pick(REPLICAS, Set.of())).contains(B);
    }
  }

  @Test
  void idleReplicasShareTheBatchesEvenly() {
    assertThat(share(30, Set.of()))
        .containsOnly(Map.entry(A, 10), Map.entry(B, 10), Map.entry(C, 10));
  }

  @Test
  void whenOneReplicaIsBusyTheOthersShareEvenly() {
    busy(A, 3);

    assertThat(share(30, Set.of())).containsOnly(Map.entry(B, 15), Map.entry(C, 15));
  }

  @Test
  void whenOneReplicaIsEjectedTheOthersShareEvenly() {
    fail(A, 1);

    assertThat(share(30, Set.of())).containsOnly(Map.entry(B, 15), Map.entry(C, 15));
  }

  @Test
  void whenOneReplicaIsExcludedTheOthersShareEvenly() {
    assertThat(share(30, Set.of(B.endpoint()))).containsOnly(Map.entry(A, 15), Map.entry(C, 15));
  }

  @Test
  void excludedReplicasAreSkippedEvenWhenIdlest() {
    busy(B, 1);
    busy(C, 1);

    for (int i = 0; i < 6; i++) {
      assertThat(selector.pick(REPLICAS, Set.of(A.endpoint()))).get().isIn(B, C);
    }
    assertThat(selector.pick(REPLICAS, Set.of(A.endpoint(), B.endpoint(), C.endpoint()))).isEmpty();
  }

  @Test
  void anEjectedReplicaGetsNothingUntilItsEjectionEnds() {
    fail(A, 1);
    busy(B, 5);
    busy(C, 5);

    for (int i = 0; i < 6; i++) {
      assertThat(pick()).get().isIn(B, C);
    }
    clock.advance(Duration.ofSeconds(1));
    assertThat(pick()).contains(A);
  }

  @Test
  void whenEveryReplicaIsEjectedTheOneBackSoonestIsTried() {
    fail(C, 3); // ejected 1 s, 2 s, then 4 s: after 3 s, back in 4 s
    fail(A, 2); // ejected 1 s, then 2 s: after 1 s more, back in 2 s (C: 3 s)
    fail(B, 1); // back in 1 s

    assertThat(pick()).contains(B);
    assertThat(selector.pick(REPLICAS, Set.of(B.endpoint()))).contains(A);
  }

  @Test
  void aNonEjectedReplicaAlwaysBeatsAnEjectedOne() {
    fail(A, 1);
    fail(B, 1);
    busy(C, 100);

    assertThat(pick()).contains(C);
  }

  @Test
  void noCandidatesMeansNoTarget() {
    assertThat(selector.pick(List.of(), Set.of())).isEmpty();
  }

  @Test
  void aSingleReplicaIsAlwaysPicked() {
    fail(A, 4);

    assertThat(selector.pick(List.of(A), Set.of())).contains(A);
    assertThat(selector.pick(List.of(A), Set.of(A.endpoint()))).isEmpty();
  }

  private Map<RemoteTarget, Integer> share(int batches, Set<String> exclude) {
    Map<RemoteTarget, Integer> picks = new HashMap<>();
    for (int i = 0; i < batches; i++) {
      picks.merge(selector.pick(REPLICAS, exclude).orElseThrow(), 1, Integer::sum);
    }
    return picks;
  }

  private Optional<RemoteTarget> pick() {
    return selector.pick(REPLICAS, Set.of());
  }

  private void busy(RemoteTarget target, int calls) {
    for (int i = 0; i < calls; i++) {
      health.started(target.endpoint());
    }
  }

  /**
   * {@code times} ejections in a row: the target fails, is ejected, is let back in when the
   * ejection ends and fails again (moving the clock).
   */
  private void fail(RemoteTarget target, int times) {
    for (int i = 0; i < times; i++) {
      if (i > 0) {
        clock.advance(Duration.ofNanos(health.ejectionRemaining(target.endpoint())));
      }
      health.started(target.endpoint());
      health.failed(target.endpoint());
    }
  }
}

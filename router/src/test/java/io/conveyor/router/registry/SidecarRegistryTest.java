package io.conveyor.router.registry;

import static io.conveyor.router.testing.Fixtures.record;
import static io.conveyor.router.testing.Fixtures.source;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.router.testing.Fixtures;
import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SidecarRegistryTest {

  private static SidecarRecord inPod(String id, String podUid, String podName) {
    SidecarRecord r = record(id, source("orders"));
    return new SidecarRecord(
        id,
        r.namespace(),
        podName,
        podUid,
        r.podIp(),
        r.dataPlaneEndpoint(),
        r.sidecarVersion(),
        r.state(),
        r.services(),
        r.heartbeatInterval(),
        r.registeredAt(),
        r.lastHeartbeat(),
        r.load(),
        "");
  }

  /** A record whose registration proved its pod with a certificate. */
  private static SidecarRecord identified(String id, String podUid, String podName) {
    SidecarRecord r = inPod(id, podUid, podName);
    return Fixtures.identified(
        r, "spiffe://conveyor.etl/ns/" + r.namespace() + "/pod/" + podName + "/sa/default");
  }

  @Test
  void anIdentifiedPodCannotTakeOverAnotherPodsSidecarIdOrPodUid() {
    SidecarRegistry registry = new SidecarRegistry(10);
    registry.register(identified("sink-sidecar", "uid-sink", "sink-0"));

    assertThatThrownBy(() -> registry.register(identified("sink-sidecar", "uid-rogue", "rogue-0")))
        .isInstanceOf(SidecarRegistry.ForeignClaimException.class)
        .hasMessage("sidecar id sink-sidecar is registered by another pod");
    assertThatThrownBy(() -> registry.register(identified("rogue-sidecar", "uid-sink", "rogue-0")))
        .isInstanceOf(SidecarRegistry.ForeignClaimException.class)
        .hasMessage("pod UID uid-sink is registered by another pod");
    assertThat(registry.all()).extracting(SidecarRecord::podName).containsExactly("sink-0");
    // The pod itself, restarted, still replaces its own sidecar.
    assertThat(registry.register(identified("sink-sidecar-2", "uid-sink", "sink-0")))
        .containsExactly("sink-sidecar");
  }

  @Test
  void aNewSidecarOfTheSamePodReplacesTheOldOne() {
    SidecarRegistry registry = new SidecarRegistry(10);
    registry.register(inPod("old", "uid-1", "pod-1"));
    registry.register(inPod("other", "uid-2", "pod-2"));

    List<String> replaced = registry.register(inPod("new", "uid-1", "pod-1"));

    assertThat(replaced).containsExactly("old");
    assertThat(registry.all()).extracting(SidecarRecord::sidecarId).containsExactly("other", "new");
  }

  @Test
  void withoutAPodUidThePodNameIdentifiesThePod() {
    SidecarRegistry registry = new SidecarRegistry(10);
    registry.register(inPod("old", "", "pod-1"));

    assertThat(registry.register(inPod("new", "", "pod-1"))).containsExactly("old");
  }

  @Test
  void sidecarsWithoutPodIdentityNeverReplaceEachOther() {
    // Laptop demo: POD_NAME defaults to "unknown" for every sidecar.
    SidecarRegistry registry = new SidecarRegistry(10);
    registry.register(inPod("a", "", "unknown"));

    assertThat(registry.register(inPod("b", "", "unknown"))).isEmpty();
    assertThat(registry.size()).isEqualTo(2);
  }

  @Test
  void registeringTheSameIdAgainIsAReplacementNotANewEntry() {
    SidecarRegistry registry = new SidecarRegistry(1);
    registry.register(record("a"));

    assertThat(registry.register(record("a", source("orders")))).isEmpty();
    assertThat(registry.get("a").orElseThrow().services()).hasSize(1);
  }

  @Test
  void aFullRegistryRefusesNewSidecarsByName() {
    SidecarRegistry registry = new SidecarRegistry(1);
    registry.register(record("a"));

    assertThatThrownBy(() -> registry.register(record("b")))
        .isInstanceOf(SidecarRegistry.RegistryFullException.class)
        .hasMessageContaining("maximum of 1 sidecars");
    assertThat(registry.all()).extracting(SidecarRecord::sidecarId).containsExactly("a");
  }

  @Test
  void expiryIsStrictlyAfterTheMissedPeriods() {
    SidecarRegistry registry = new SidecarRegistry(10);
    registry.register(record("a")); // 5 s period, last heartbeat at START

    assertThat(registry.expired(MutableClock.START.plusSeconds(15), 3)).isEmpty();
    assertThat(registry.expired(MutableClock.START.plusSeconds(15).plusMillis(1), 3))
        .extracting(SidecarRecord::sidecarId)
        .containsExactly("a");
  }

  @Test
  void loadAndTimeAreNotMeaningfulChangesButStateAndServicesAre() {
    SidecarRecord before = record("a", source("orders"));
    SidecarRecord busier =
        before.withHeartbeat(
            MutableClock.START.plus(Duration.ofSeconds(5)),
            before.state(),
            before.services(),
            SidecarLoad.newBuilder().setInFlightBatches(7).build());

    assertThat(busier.differsMeaningfullyFrom(before)).isFalse();
    assertThat(
            before
                .withHeartbeat(
                    before.lastHeartbeat(),
                    SidecarState.SIDECAR_STATE_DRAINING,
                    before.services(),
                    before.load())
                .differsMeaningfullyFrom(before))
        .isTrue();
    assertThat(
            before
                .withHeartbeat(before.lastHeartbeat(), before.state(), List.of(), before.load())
                .differsMeaningfullyFrom(before))
        .isTrue();
  }

  @Test
  void updatingAnUnknownSidecarIsAnError() {
    assertThatThrownBy(() -> new SidecarRegistry(1).update(record("ghost")))
        .isInstanceOf(IllegalStateException.class);
  }
}

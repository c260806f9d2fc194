package io.conveyor.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.crd.ServiceStatus;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.Services;
import io.conveyor.router.registry.SidecarRecord;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SidecarStatusCalculatorTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final Duration REFRESH = Duration.ofMinutes(5);

  private final SidecarStatusCalculator calculator = new SidecarStatusCalculator(REFRESH);

  @Test
  void aPodWhoseSidecarHasNotRegisteredIsPending() {
    PodFacts pod = PodFacts.of(runningPod(false));

    ConveyorSidecarStatus status =
        compute(pod, RouterFacts.unregistered(Optional.empty()), null, T0);

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Pending);
    assertThat(status.getRegistered()).isFalse();
    assertThat(status.getPodIP()).isEqualTo("10.0.0.7");
    assertThat(status.getNodeName()).isEqualTo("node-a");
    assertThat(status.getSidecarContainerReady()).isFalse();
    assertThat(condition(status, "Registered").getReason()).isEqualTo("AwaitingRegistration");
    assertThat(condition(status, "Ready").getStatus()).isEqualTo("False");
    assertThat(condition(status, "Ready").getReason()).isEqualTo("AwaitingRegistration");
    assertThat(status.getConditions())
        .extracting(Condition::getType)
        .containsExactly(
            "PodReady", "SidecarContainerReady", "Registered", "ServicesHealthy", "Ready");
  }

  @Test
  void theProfileIsTheOneTheInjectorWroteIntoTheSidecarsEnvironment() {
    assertThat(
            compute(
                    PodFacts.of(runningPod(true)),
                    RouterFacts.unregistered(Optional.empty()),
                    null,
                    T0)
                .getProfile())
        .as("no variable: the image's default")
        .isEqualTo("compact");
    for (var c :
        List.of(
            List.of("@/app/profiles/throughput.options", "throughput"),
            List.of("@/app/profiles/compact.options", "compact"),
            List.of("-XX:-TieredCompilation", "custom"))) {
      Pod pod = runningPod(true);
      pod.getSpec()
          .getInitContainers()
          .get(0)
          .setEnv(
              List.of(
                  new EnvVar("POD_NAME", "x", null),
                  new EnvVar("JDK_JAVA_OPTIONS", c.get(0), null)));

      ConveyorSidecarStatus status =
          compute(PodFacts.of(pod), RouterFacts.unregistered(Optional.empty()), null, T0);

      assertThat(status.getProfile()).as(c.get(0)).isEqualTo(c.get(1));
    }
  }

  @Test
  void aPodWithoutTheSidecarContainerSaysSo() {
    Pod pod = runningPod(true);
    pod.getSpec().setInitContainers(List.of());

    ConveyorSidecarStatus status =
        compute(PodFacts.of(pod), RouterFacts.unregistered(Optional.empty()), null, T0);

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Pending);
    assertThat(condition(status, "SidecarContainerReady").getReason())
        .isEqualTo("ContainerMissing");
  }

  @Test
  void aRegisteredServingSidecarInAReadyPodIsReadyWithItsServicesAndPipelines() {
    PodFacts pod = PodFacts.of(runningPod(true));
    SidecarRecord record =
        record(
            "sc-1",
            SidecarState.SIDECAR_STATE_SERVING,
            T0,
            Services.transform("mask-pii"),
            Services.source("orders"));

    ConveyorSidecarStatus status =
        compute(pod, registered(record, "orders-b", "orders-a"), null, T0.plusSeconds(1));

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Ready);
    assertThat(status.getRegistered()).isTrue();
    assertThat(status.getSidecarId()).isEqualTo("sc-1");
    assertThat(status.getEndpoint()).isEqualTo("10.0.0.7:9091");
    assertThat(status.getServiceNames()).containsExactly("mask-pii", "orders");
    assertThat(status.getServices())
        .extracting(ServiceStatus::getName, ServiceStatus::getType, ServiceStatus::getHealth)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("mask-pii", "transform", "Serving"),
            org.assertj.core.groups.Tuple.tuple("orders", "source", "Serving"));
    assertThat(status.getPipelines()).containsExactly("orders-a", "orders-b");
    assertThat(status.getLastHeartbeat()).isEqualTo("2026-03-01T10:00:00Z");
    assertThat(condition(status, "Ready").getStatus()).isEqualTo("True");
  }

  @Test
  void aRegisteredSidecarInAPodNotYetReadyIsRegistered() {
    PodFacts pod = PodFacts.of(runningPod(false));
    SidecarRecord record =
        record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"));

    ConveyorSidecarStatus status = compute(pod, registered(record), null, T0);

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Registered);
    assertThat(condition(status, "Ready").getReason()).isEqualTo("ContainerNotReady");
  }

  @Test
  void aReadySidecarWhoseServiceFailsItsChecksIsDegraded() {
    PodFacts pod = PodFacts.of(runningPod(true));
    ConveyorSidecarStatus ready =
        compute(
            pod,
            registered(
                record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"))),
            null,
            T0);
    SidecarRecord failing =
        record(
            "sc-1",
            SidecarState.SIDECAR_STATE_SERVING,
            T0,
            Services.notServing(Services.sink("warehouse")));

    ConveyorSidecarStatus status = compute(pod, registered(failing), ready, T0.plusSeconds(5));

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Degraded);
    assertThat(condition(status, "ServicesHealthy").getReason()).isEqualTo("ServiceNotServing");
    assertThat(condition(status, "Ready").getMessage()).contains("warehouse");
  }

  @Test
  void aRegisteredSidecarTheRouterDroppedWhileThePodRunsIsLost() {
    PodFacts pod = PodFacts.of(runningPod(true));
    ConveyorSidecarStatus ready =
        compute(
            pod,
            registered(
                record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"))),
            null,
            T0);

    ConveyorSidecarStatus status =
        compute(pod, RouterFacts.unregistered(Optional.empty()), ready, T0.plusSeconds(30));

    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Lost);
    assertThat(status.getRegistered()).isFalse();
    assertThat(status.getSidecarId()).as("kept for diagnosis").isEqualTo("sc-1");
    assertThat(status.getLastHeartbeat()).isEqualTo(ready.getLastHeartbeat());
    assertThat(status.getServices()).isEmpty();
    assertThat(status.getPipelines()).isEmpty();
    assertThat(condition(status, "Registered").getReason()).isEqualTo("SidecarLost");
    assertThat(condition(status, "Ready").getMessage())
        .contains("sc-1")
        .contains("missed its heartbeats");
    assertThat(condition(status, "Registered").getLastTransitionTime())
        .isEqualTo("2026-03-01T10:00:30Z");

    ConveyorSidecarStatus stillLost =
        compute(pod, RouterFacts.unregistered(Optional.empty()), status, T0.plusSeconds(60));
    assertThat(StatusComparison.same(stillLost, status)).as("Lost is stable").isTrue();
  }

  @Test
  void duringARouterWarmUpAnAbsentRegistrationKeepsThePreviousFacts() {
    PodFacts pod = PodFacts.of(runningPod(true));
    ConveyorSidecarStatus ready =
        compute(
            pod,
            registered(
                record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse")),
                "orders"),
            null,
            T0);
    Instant warmUpEnds = T0.plusSeconds(40);

    SidecarStatusCalculator.Result result =
        calculator.compute(
            pod, RouterFacts.unregistered(Optional.of(warmUpEnds)), ready, 1, T0.plusSeconds(30));

    assertThat(StatusComparison.same(result.status(), ready)).isTrue();
    assertThat(result.recheckAfter()).contains(Duration.ofSeconds(10));
  }

  @Test
  void duringARouterWarmUpTheCarriedStateAndHealthStillDecideThePhase() {
    PodFacts pod = PodFacts.of(runningPod(true));
    Optional<Instant> warmUpEnds = Optional.of(T0.plusSeconds(40));
    ConveyorSidecarStatus draining =
        compute(
            pod,
            registered(
                record(
                    "sc-1", SidecarState.SIDECAR_STATE_DRAINING, T0, Services.sink("warehouse"))),
            null,
            T0);
    ConveyorSidecarStatus failing =
        compute(
            pod,
            registered(
                record(
                    "sc-1",
                    SidecarState.SIDECAR_STATE_SERVING,
                    T0,
                    Services.notServing(Services.sink("warehouse")))),
            null,
            T0);

    ConveyorSidecarStatus stillDraining =
        compute(pod, RouterFacts.unregistered(warmUpEnds), draining, T0.plusSeconds(10));
    ConveyorSidecarStatus stillFailing =
        compute(pod, RouterFacts.unregistered(warmUpEnds), failing, T0.plusSeconds(10));

    assertThat(stillDraining.getPhase()).isEqualTo(SidecarPhase.Terminating);
    assertThat(stillDraining.getSidecarState()).isEqualTo("Draining");
    assertThat(condition(stillDraining, "Ready").getReason()).isEqualTo("SidecarDraining");
    assertThat(stillFailing.getPhase()).isEqualTo(SidecarPhase.Degraded);
    assertThat(stillFailing.getServices())
        .extracting(ServiceStatus::getHealth)
        .containsExactly("NotServing");
  }

  @Test
  void heartbeatsAloneDoNotChangeTheStatusUntilTheRefreshPeriodIsOver() {
    PodFacts pod = PodFacts.of(runningPod(true));
    SidecarRecord first =
        record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"));
    ConveyorSidecarStatus written = compute(pod, registered(first), null, T0);

    for (int beat = 1; beat < 59; beat++) {
      Instant at = T0.plusSeconds(5L * beat);
      SidecarRecord later =
          first.withHeartbeat(
              at,
              first.state(),
              first.services(),
              SidecarLoad.newBuilder().setQueueDepth(beat).build());
      SidecarStatusCalculator.Result result =
          calculator.compute(pod, registered(later), written, 1, at);
      assertThat(StatusComparison.same(result.status(), written)).as("heartbeat %d", beat).isTrue();
      assertThat(result.recheckAfter()).contains(Duration.between(at, T0.plus(REFRESH)));
    }

    Instant late = T0.plus(REFRESH);
    SidecarRecord refreshed =
        first.withHeartbeat(late, first.state(), first.services(), first.load());
    ConveyorSidecarStatus status = compute(pod, registered(refreshed), written, late);
    assertThat(status.getLastHeartbeat()).isEqualTo("2026-03-01T10:05:00Z");
  }

  @Test
  void theHeartbeatTimeRidesAlongWhenSomethingElseChanges() {
    PodFacts pod = PodFacts.of(runningPod(true));
    SidecarRecord first =
        record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"));
    ConveyorSidecarStatus written = compute(pod, registered(first), null, T0);
    Instant at = T0.plusSeconds(20);
    SidecarRecord later = first.withHeartbeat(at, first.state(), first.services(), first.load());

    ConveyorSidecarStatus status = compute(pod, registered(later, "orders"), written, at);

    assertThat(status.getPipelines()).containsExactly("orders");
    assertThat(status.getLastHeartbeat()).isEqualTo("2026-03-01T10:00:20Z");
  }

  @Test
  void aDeletedPodOrADrainingSidecarIsTerminating() {
    Pod deleting = runningPod(true);
    deleting.getMetadata().setDeletionTimestamp("2026-03-01T10:00:00Z");
    SidecarRecord serving =
        record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"));
    assertThat(compute(PodFacts.of(deleting), registered(serving), null, T0).getPhase())
        .isEqualTo(SidecarPhase.Terminating);

    SidecarRecord draining =
        record("sc-1", SidecarState.SIDECAR_STATE_DRAINING, T0, Services.sink("warehouse"));
    ConveyorSidecarStatus status =
        compute(PodFacts.of(runningPod(true)), registered(draining), null, T0);
    assertThat(status.getPhase()).isEqualTo(SidecarPhase.Terminating);
    assertThat(condition(status, "Ready").getReason()).isEqualTo("SidecarDraining");
  }

  @Test
  void conditionsKeepTheirTransitionTimeWhileTheirStatusHolds() {
    PodFacts pod = PodFacts.of(runningPod(true));
    SidecarRecord record =
        record("sc-1", SidecarState.SIDECAR_STATE_SERVING, T0, Services.sink("warehouse"));
    ConveyorSidecarStatus first = compute(pod, registered(record), null, T0);

    ConveyorSidecarStatus second =
        compute(pod, registered(record, "orders"), first, T0.plusSeconds(90));

    assertThat(condition(second, "Ready").getLastTransitionTime())
        .isEqualTo("2026-03-01T10:00:00Z");
    assertThat(condition(second, "Ready").getMessage()).contains("1 pipeline");
  }

  // ------------------------------------------------------------------ helpers

  private ConveyorSidecarStatus compute(
      PodFacts pod, RouterFacts router, ConveyorSidecarStatus previous, Instant now) {
    return calculator.compute(pod, router, previous, 1, now).status();
  }

  private static Pod runningPod(boolean ready) {
    Pod pod = Pods.injected("shop", "orders-0");
    pod.getMetadata().setUid("uid-1");
    pod.setStatus(Pods.running("10.0.0.7", ready));
    return pod;
  }

  private static RouterFacts registered(SidecarRecord record, String... pipelines) {
    return new RouterFacts(Optional.of(record), List.of(pipelines), Optional.empty());
  }

  private static SidecarRecord record(
      String id, SidecarState state, Instant at, DiscoveredService... services) {
    return new SidecarRecord(
        id,
        "shop",
        "orders-0",
        "uid-1",
        "10.0.0.7",
        "10.0.0.7:9091",
        "0.1.0",
        state,
        List.of(services),
        Duration.ofSeconds(5),
        at,
        at,
        SidecarLoad.getDefaultInstance(),
        "");
  }

  private static Condition condition(ConveyorSidecarStatus status, String type) {
    return status.getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no condition " + type + " in " + status.getConditions()));
  }
}

package io.conveyor.operator.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.operator.testing.Services;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.conveyor.testkit.MutableClock;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which router changes become reconcile events: the changed ones, never plain heartbeats. */
class RouterEventBridgeTest {

  private final MutableClock clock = MutableClock.startingNow();
  private final RouterCore core = new RouterCore(clock, RouterSettings.defaults());
  private final RouterEventBridge bridge = new RouterEventBridge(core);
  private final List<ResourceID> podEvents = new CopyOnWriteArrayList<>();
  private final List<ResourceID> pipelineEvents = new CopyOnWriteArrayList<>();

  @BeforeEach
  void wire() {
    core.addListener(bridge);
    bridge.onPodEvent(podEvents::add);
    bridge.onPipelineEvent(pipelineEvents::add);
  }

  @Test
  void aRegistrationTriggersItsPodAndIsFoundByPodUid() {
    register("sc-a", "a", "uid-a", Services.source("orders"));

    assertThat(podEvents).containsExactly(new ResourceID("a", "shop"));
    assertThat(bridge.sidecarOf("uid-a", "shop", "a")).map(r -> r.sidecarId()).contains("sc-a");
    assertThat(bridge.sidecarOf("uid-other", "shop", "a")).as("same name, another pod").isEmpty();
  }

  @Test
  void aSidecarWithoutPodUidIsFoundByNamespaceAndName() {
    register("sc-a", "a", "", Services.source("orders"));

    assertThat(bridge.sidecarOf("uid-a", "shop", "a")).map(r -> r.sidecarId()).contains("sc-a");
  }

  @Test
  void heartbeatsThatChangeNothingTriggerNothing() {
    register("sc-a", "a", "uid-a", Services.source("orders"));
    podEvents.clear();

    for (int i = 0; i < 10; i++) {
      clock.advance(java.time.Duration.ofSeconds(1));
      core.heartbeat(
          HeartbeatRequest.newBuilder()
              .setSidecarId("sc-a")
              .setState(SidecarState.SIDECAR_STATE_SERVING)
              .addServices(Services.source("orders"))
              .setLoad(SidecarLoad.newBuilder().setQueueDepth(i))
              .build());
    }

    assertThat(podEvents).isEmpty();
    assertThat(pipelineEvents).isEmpty();
  }

  @Test
  void aPlanChangeTriggersOnlyThePodsAndPipelinesItChanged() {
    register("sc-a", "a", "uid-a", Services.source("orders"), Services.sink("warehouse"));
    register("sc-b", "b", "uid-b", Services.source("metrics"));
    podEvents.clear();

    core.upsertPipeline(pipeline("orders", "orders", "warehouse"));

    assertThat(pipelineEvents).containsExactly(new ResourceID("orders", "shop"));
    assertThat(podEvents)
        .as("only the pod that now runs a stage")
        .containsOnly(new ResourceID("a", "shop"));
    assertThat(bridge.pipelinesOf("sc-a")).containsExactly("orders");

    pipelineEvents.clear();
    podEvents.clear();
    register("sc-c", "c", "uid-c", Services.source("unrelated"));
    assertThat(pipelineEvents).as("replicas of orders did not change").isEmpty();
    assertThat(podEvents).containsOnly(new ResourceID("c", "shop"));

    podEvents.clear();
    register("sc-d", "d", "uid-d", Services.sink("warehouse"));
    assertThat(pipelineEvents).containsExactly(new ResourceID("orders", "shop"));
    // Registration and the plan change each trigger it; the operator framework coalesces them.
    assertThat(podEvents).containsOnly(new ResourceID("d", "shop"));
  }

  @Test
  void aSidecarThatLeavesTriggersItsPodAndItsPipelines() {
    register("sc-a", "a", "uid-a", Services.source("orders"), Services.sink("warehouse"));
    core.upsertPipeline(pipeline("orders", "orders", "warehouse"));
    podEvents.clear();
    pipelineEvents.clear();

    core.deregister("sc-a");

    assertThat(podEvents).contains(new ResourceID("a", "shop"));
    assertThat(pipelineEvents).containsExactly(new ResourceID("orders", "shop"));
    assertThat(bridge.sidecarOf("uid-a", "shop", "a")).isEmpty();
    assertThat(bridge.indexedSidecars()).isZero();
  }

  // ------------------------------------------------------------------ helpers

  private void register(String id, String pod, String uid, DiscoveredService... services) {
    core.register(
        RegisterSidecarRequest.newBuilder()
            .setIdentity(
                SidecarIdentity.newBuilder()
                    .setSidecarId(id)
                    .setPodName(pod)
                    .setNamespace("shop")
                    .setPodUid(uid)
                    .setPodIp("10.0.0.1"))
            .setDataPlaneEndpoint("10.0.0.1:9091")
            .addAllServices(List.of(services))
            .setState(SidecarState.SIDECAR_STATE_SERVING)
            .build());
  }

  private static io.conveyor.router.pipeline.PipelineDefinition pipeline(
      String name, String source, String sink) {
    return ((PipelineValidation.Valid)
            PipelineValidator.validate(
                "shop", name, 1, new PipelineSpec(source, List.of(), sink, null)))
        .definition();
  }
}

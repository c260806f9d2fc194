package io.conveyor.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.etl.v1.StageTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The routing table a sidecar builds from the router's assignments and its pod's services. */
class RoutingTableTest {

  private static final String SELF = "sc-a";

  private static final LocalService ORDERS_SOURCE =
      new LocalService("orders", ServiceType.SERVICE_TYPE_SOURCE, "127.0.0.1:50051", 0);
  private static final LocalService MASK_PII =
      new LocalService("mask-pii", ServiceType.SERVICE_TYPE_TRANSFORM, "127.0.0.1:50052", 100);

  /**
   * orders → mask-pii → warehouse, dead letters to parking; run by sc-a (source, transform) and
   * others.
   */
  private static PipelineAssignment ordersEtl() {
    return pipeline(
        "orders-etl",
        stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, "sc-a"),
        stage(1, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM, "sc-a", "sc-b"),
        stage(2, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-c", "sc-d"),
        stage(3, "parking", StageRole.STAGE_ROLE_DEAD_LETTER, "sc-d"));
  }

  @Test
  void stagesRunLocallyWhenThePodRunsTheServiceAndRemotelyOtherwise() {
    RoutingTable table =
        RoutingTable.build(SELF, set(7, ordersEtl()), List.of(ORDERS_SOURCE, MASK_PII));

    PipelineRoute route = table.pipeline("orders-etl").orElseThrow();
    assertThat(route.stages())
        .extracting(StageRoute::name)
        .containsExactly("orders", "mask-pii", "warehouse", "parking");
    assertThat(route.stage(0).local()).contains(ORDERS_SOURCE);
    assertThat(route.stage(1).local()).contains(MASK_PII);
    assertThat(route.stage(2).isLocal()).isFalse();
    assertThat(route.stage(2).remotes())
        .containsExactly(
            new RemoteTarget("sc-c", "sc-c.pods:9091", "pod-sc-c"),
            new RemoteTarget("sc-d", "sc-d.pods:9091", "pod-sc-d"));
    assertThat(table.version()).isEqualTo(7);
    assertThat(table.pipelineNames()).containsExactly("orders-etl");
  }

  @Test
  void thisSidecarIsNeverItsOwnRemoteTarget() {
    RoutingTable table =
        RoutingTable.build(SELF, set(1, ordersEtl()), List.of(ORDERS_SOURCE, MASK_PII));

    StageRoute transform = table.pipeline("orders-etl").orElseThrow().stage(1);
    assertThat(transform.remotes()).extracting(RemoteTarget::sidecarId).containsExactly("sc-b");
  }

  @Test
  void discoveryDecidesLocalityEvenAgainstTheRoutersLocalFlag() {
    // The router still thinks this pod runs mask-pii (local=true), but discovery no longer sees it:
    // the other replica takes the batches. And a service discovery found before the router caught
    // up is used at once.
    PipelineAssignment assignment =
        pipeline(
            "orders-etl",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE).toBuilder().setLocal(false).build(),
            stage(1, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM, "sc-a", "sc-b").toBuilder()
                .setLocal(true)
                .build(),
            stage(2, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-c"));

    PipelineRoute route =
        RoutingTable.build(SELF, set(1, assignment), List.of(ORDERS_SOURCE))
            .pipeline("orders-etl")
            .orElseThrow();

    assertThat(route.stage(0).isLocal()).isTrue();
    assertThat(route.stage(1).isLocal()).isFalse();
    assertThat(route.stage(1).remotes())
        .extracting(RemoteTarget::sidecarId)
        .containsExactly("sc-b");
  }

  @Test
  void aServiceOfTheSameNameButAnotherTypeDoesNotMakeAStageLocal() {
    LocalService sinkNamedMaskPii =
        new LocalService("mask-pii", ServiceType.SERVICE_TYPE_SINK, "127.0.0.1:50053", 0);

    StageRoute transform =
        RoutingTable.build(SELF, set(1, ordersEtl()), List.of(sinkNamedMaskPii))
            .pipeline("orders-etl")
            .orElseThrow()
            .stage(1);

    assertThat(transform.isLocal()).isFalse();
  }

  @Test
  void theDeadLetterSinkRunsLocallyWhenThePodRunsASinkOfThatName() {
    LocalService parking =
        new LocalService("parking", ServiceType.SERVICE_TYPE_SINK, "127.0.0.1:50054", 0);

    PipelineRoute route =
        RoutingTable.build(SELF, set(1, ordersEtl()), List.of(parking))
            .pipeline("orders-etl")
            .orElseThrow();

    assertThat(route.stage(3).local()).contains(parking);
  }

  @Test
  void aStageNoOneRunsIsUnreachable() {
    PipelineAssignment assignment =
        pipeline(
            "orders-etl",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, "sc-a"),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-a"));

    StageRoute sink =
        RoutingTable.build(SELF, set(1, assignment), List.of(ORDERS_SOURCE))
            .pipeline("orders-etl")
            .orElseThrow()
            .stage(1);

    assertThat(sink.unreachable()).isTrue();
  }

  @Test
  void stagesFollowPipelineOrderAndTheDeadLetterSinkIsNeverANextStage() {
    PipelineRoute route =
        RoutingTable.build(SELF, set(1, ordersEtl()), List.of())
            .pipeline("orders-etl")
            .orElseThrow();

    assertThat(route.source().name()).isEqualTo("orders");
    assertThat(route.entryIndex()).isEqualTo(1);
    assertThat(route.next(0)).hasValue(1);
    assertThat(route.next(1)).hasValue(2);
    assertThat(route.next(2)).isEmpty();
    assertThat(route.deadLetterIndex()).hasValue(3);
    assertThat(route.hasStage(3)).isTrue();
    assertThat(route.hasStage(4)).isFalse();
    assertThat(route.hasStage(-1)).isFalse();
  }

  @Test
  void aPipelineWithoutDeadLetterSinkHasNoDeadLetterIndex() {
    PipelineAssignment direct =
        pipeline(
            "direct",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, "sc-a"),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-c"));

    PipelineRoute route =
        RoutingTable.build(SELF, set(1, direct), List.of()).pipeline("direct").orElseThrow();

    assertThat(route.deadLetterIndex()).isEqualTo(OptionalInt.empty());
    assertThat(route.entryIndex()).isEqualTo(1);
    assertThat(route.next(1)).isEmpty();
  }

  @Test
  void malformedAssignmentsAreSkippedAndTheOthersKept() {
    List<PipelineAssignment> malformed = new ArrayList<>();
    malformed.add(
        pipeline(
            "out-of-order",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(2, "warehouse", StageRole.STAGE_ROLE_SINK),
            stage(1, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM)));
    malformed.add(pipeline("single-stage", stage(0, "orders", StageRole.STAGE_ROLE_SOURCE)));
    malformed.add(pipeline("no-stages"));
    malformed.add(
        pipeline(
            "no-source",
            stage(0, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK)));
    // Would "deliver" records that no sink ever wrote.
    malformed.add(
        pipeline(
            "no-sink",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM)));
    malformed.add(
        pipeline(
            "sink-in-the-middle",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK),
            stage(2, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM),
            stage(3, "archive", StageRole.STAGE_ROLE_SINK)));
    malformed.add(
        pipeline(
            "dead-letter-only",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "parking", StageRole.STAGE_ROLE_DEAD_LETTER)));
    malformed.add(
        pipeline(
            "unspecified-role",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "mystery", StageRole.STAGE_ROLE_UNSPECIFIED),
            stage(2, "warehouse", StageRole.STAGE_ROLE_SINK)));
    malformed.add(
        pipeline(
            "nameless-stage",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "", StageRole.STAGE_ROLE_SINK)));
    malformed.add(
        pipeline(
            "",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK)));
    List<PipelineAssignment> all = new ArrayList<>(malformed);
    all.add(ordersEtl());

    RoutingTable table =
        RoutingTable.build(
            SELF, AssignmentSet.newBuilder().setVersion(3).addAllPipelines(all).build(), List.of());

    assertThat(table.pipelineNames()).containsExactly("orders-etl");
  }

  @Test
  void pipelinesWithLocalSourceAreThoseWhoseSourceThisPodRuns() {
    PipelineAssignment billing =
        pipeline(
            "billing",
            stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, "sc-a"),
            stage(1, "ledger", StageRole.STAGE_ROLE_SINK, "sc-e"));
    PipelineAssignment clicks =
        pipeline(
            "clicks",
            stage(0, "clickstream", StageRole.STAGE_ROLE_SOURCE, "sc-z"),
            stage(1, "mask-pii", StageRole.STAGE_ROLE_TRANSFORM, "sc-a"),
            stage(2, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-c"));

    RoutingTable withSource =
        RoutingTable.build(
            SELF, set(1, ordersEtl(), billing, clicks), List.of(ORDERS_SOURCE, MASK_PII));
    RoutingTable withoutSource =
        RoutingTable.build(SELF, set(1, ordersEtl(), billing, clicks), List.of(MASK_PII));

    assertThat(withSource.pipelinesWithLocalSource("orders"))
        .extracting(PipelineRoute::pipeline)
        .containsExactlyInAnyOrder("orders-etl", "billing");
    assertThat(withSource.pipelinesWithLocalSource("clickstream")).isEmpty();
    assertThat(withoutSource.pipelinesWithLocalSource("orders")).isEmpty();
  }

  @Test
  void deliveryOptionsComeFromTheAssignmentWithSafeFloors() {
    PipelineAssignment tuned =
        ordersEtl().toBuilder()
            .setGeneration(4)
            .setDelivery(
                DeliveryOptions.newBuilder()
                    .setMaxBatchSize(250)
                    .setMaxRetries(5)
                    .setRetryBackoffMillis(40)
                    .setBatchTimeoutMillis(2_000))
            .build();
    PipelineAssignment unset =
        ordersEtl().toBuilder()
            .setPipeline("unset")
            .setDelivery(DeliveryOptions.newBuilder().setMaxRetries(-2).setRetryBackoffMillis(-5))
            .build();

    RoutingTable table = RoutingTable.build(SELF, set(1, tuned, unset), List.of(MASK_PII));

    PipelineRoute route = table.pipeline("orders-etl").orElseThrow();
    assertThat(route.generation()).isEqualTo(4);
    assertThat(route.delivery())
        .isEqualTo(new Delivery(250, 5, Duration.ofMillis(40), Duration.ofSeconds(2)));
    assertThat(table.pipeline("unset").orElseThrow().delivery())
        .isEqualTo(new Delivery(500, 0, Duration.ofMillis(1), Duration.ofSeconds(30)));
    // The local service's own limit (100) is below the pipeline's (250): it wins for that stage
    // only.
    assertThat(route.stage(1).batchLimit(route.delivery().maxBatchSize())).isEqualTo(100);
    assertThat(route.stage(2).batchLimit(route.delivery().maxBatchSize())).isEqualTo(250);
  }

  @Test
  void routesRebuildTheTableWhenAssignmentsOrServicesChange() {
    Routes routes = new Routes(SELF);

    assertThat(routes.table()).isSameAs(RoutingTable.EMPTY);
    routes.assign(set(5, ordersEtl()));
    assertThat(routes.table().pipeline("orders-etl").orElseThrow().stage(1).isLocal()).isFalse();

    routes.services(List.of(MASK_PII));

    assertThat(routes.table().pipeline("orders-etl").orElseThrow().stage(1).isLocal()).isTrue();
    assertThat(routes.table().version()).isEqualTo(5);
    assertThat(routes.assignments().getVersion()).isEqualTo(5);
    assertThat(routes.services()).containsExactly(MASK_PII);
  }

  @Test
  void aRevokedPipelineStaysOutOfTheTableUntilTheNextAssignmentSet() {
    Routes routes = new Routes(SELF);
    PipelineAssignment other =
        pipeline(
            "clicks",
            stage(0, "clicks", StageRole.STAGE_ROLE_SOURCE, "sc-a"),
            stage(1, "warehouse", StageRole.STAGE_ROLE_SINK, "sc-c"));
    routes.assign(set(5, ordersEtl(), other));

    routes.revoke("orders-etl");
    assertThat(routes.table().pipelineNames()).containsExactly("clicks");
    assertThat(routes.table().version()).isEqualTo(5);

    // Discovery rebuilding the table does not bring it back.
    routes.services(List.of(MASK_PII));
    assertThat(routes.table().pipeline("orders-etl")).isEmpty();
    assertThat(routes.table().pipeline("clicks")).isPresent();

    // The router's next set is authoritative again.
    routes.assign(set(6, ordersEtl(), other));
    assertThat(routes.table().pipelineNames()).containsExactlyInAnyOrder("orders-etl", "clicks");
    assertThat(routes.table().pipeline("orders-etl").orElseThrow().stage(1).isLocal()).isTrue();
  }

  @Test
  void revokingAPipelineThatIsNotAssignedChangesNothing() {
    Routes routes = new Routes(SELF);
    routes.assign(set(5, ordersEtl()));
    RoutingTable before = routes.table();

    routes.revoke("payments");

    assertThat(routes.table()).isSameAs(before);
    routes.services(List.of(MASK_PII));
    assertThat(routes.table().pipeline("orders-etl")).isPresent();
  }

  // ------------------------------------------------------------------ fixtures

  static AssignmentSet set(long version, PipelineAssignment... pipelines) {
    return AssignmentSet.newBuilder()
        .setVersion(version)
        .addAllPipelines(List.of(pipelines))
        .build();
  }

  static PipelineAssignment pipeline(String name, StageAssignment... stages) {
    return PipelineAssignment.newBuilder()
        .setPipeline(name)
        .setGeneration(1)
        .addAllStages(List.of(stages))
        .build();
  }

  /** A stage run by the given sidecars, each at {@code <id>.pods:9091} in pod {@code pod-<id>}. */
  static StageAssignment stage(int index, String name, StageRole role, String... runners) {
    StageAssignment.Builder stage =
        StageAssignment.newBuilder()
            .setIndex(index)
            .setName(name)
            .setRole(role)
            .setLocal(List.of(runners).contains(SELF));
    for (String runner : runners) {
      stage.addTargets(
          StageTarget.newBuilder()
              .setSidecarId(runner)
              .setEndpoint(runner + ".pods:9091")
              .setPodName("pod-" + runner)
              .setNamespace("default"));
    }
    return stage.build();
  }
}

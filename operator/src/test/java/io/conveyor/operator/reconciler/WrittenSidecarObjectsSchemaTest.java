package io.conveyor.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.SidecarLoad;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.identity.IssuedCertificate;
import io.conveyor.operator.status.CertificateCondition;
import io.conveyor.operator.status.PodFacts;
import io.conveyor.operator.status.RouterFacts;
import io.conveyor.operator.status.SidecarStatusCalculator;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.Services;
import io.conveyor.router.registry.SidecarRecord;
import io.conveyor.testkit.CrdSchema;
import io.conveyor.testkit.CrdValidationRules;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * ConveyorSidecar objects as the operator writes them: the object {@link SidecarObjects} creates
 * for a pod, with the status {@link SidecarPodReconciler} composes (the calculator, then the
 * certificate condition and fields), serialized as the client sends them and validated whole
 * against the conveyorsidecars CRD of {@code crds/}, conditions included. One object per phase the
 * operator writes, so that a field or phase the schema does not allow shows here and not as a
 * refused status write on a cluster.
 */
class WrittenSidecarObjectsSchemaTest {

  private static final CrdSchema SIDECAR =
      CrdSchema.load(
          Path.of("..")
              .toAbsolutePath()
              .normalize()
              .resolve("crds/conveyorsidecars.conveyor.etl-v1.yml"),
          "v1");

  /** None today; one added later is held to every object below as well. */
  private static final CrdValidationRules RULES = CrdValidationRules.of(SIDECAR);

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final SidecarStatusCalculator CALCULATOR =
      new SidecarStatusCalculator(Duration.ofMinutes(5));
  private static final IssuedCertificate CERTIFICATE =
      new IssuedCertificate("uid-1", "0a1b2c", T0.minusSeconds(60), T0.plus(Duration.ofHours(24)));

  /** The status the reconciler writes for these facts (calculator, then certificate). */
  private static ConveyorSidecarStatus written(
      Pod pod,
      RouterFacts router,
      ConveyorSidecarStatus previous,
      Optional<IssuedCertificate> certificate,
      Instant now) {
    ConveyorSidecarStatus status =
        CALCULATOR.compute(PodFacts.of(pod), router, previous, 1, now).status();
    CertificateCondition.apply(status, previous, certificate, 1, now);
    return status;
  }

  private static JsonNode object(Pod pod, ConveyorSidecarStatus status) {
    ConveyorSidecar object = SidecarObjects.newFor(pod);
    object.getMetadata().setGeneration(1L);
    object.setStatus(status);
    return SERIALIZATION.convertValue(object, JsonNode.class);
  }

  private static Pod pod(boolean ready) {
    Pod pod = Pods.injected("shop", "orders-0");
    pod.getMetadata().setUid("uid-1");
    pod.setStatus(Pods.running("10.0.0.7", ready));
    return pod;
  }

  private static RouterFacts registered(SidecarState state, DiscoveredService... services) {
    SidecarRecord record =
        new SidecarRecord(
            "sc-1",
            "shop",
            "orders-0",
            "uid-1",
            "10.0.0.7",
            "10.0.0.7:9091",
            "0.1.0",
            state,
            List.of(services),
            Duration.ofSeconds(5),
            T0,
            T0,
            SidecarLoad.getDefaultInstance(),
            "");
    return new RouterFacts(Optional.of(record), List.of("orders-etl"), Optional.empty());
  }

  @Test
  void everyPhaseTheOperatorWritesMatchesTheSchemaConditionsIncluded() {
    RouterFacts none = RouterFacts.unregistered(Optional.empty());
    List<ConveyorSidecarStatus> statuses = new ArrayList<>();
    Pod ready = pod(true);

    ConveyorSidecarStatus pending =
        written(pod(false), none, null, Optional.empty(), T0); // NotEnrolled
    ConveyorSidecarStatus registered =
        written(
            pod(false),
            registered(SidecarState.SIDECAR_STATE_STARTING, Services.sink("warehouse")),
            pending,
            Optional.of(CERTIFICATE),
            T0);
    ConveyorSidecarStatus readyStatus =
        written(
            ready,
            registered(
                SidecarState.SIDECAR_STATE_SERVING,
                Services.source("orders"),
                Services.transform("mask-pii")),
            registered,
            Optional.of(CERTIFICATE),
            T0.plusSeconds(1));
    ConveyorSidecarStatus degraded =
        written(
            ready,
            registered(
                SidecarState.SIDECAR_STATE_SERVING,
                Services.notServing(Services.transform("mask-pii"))),
            readyStatus,
            Optional.of(CERTIFICATE),
            T0.plus(Duration.ofHours(20))); // RenewalOverdue
    ConveyorSidecarStatus lost =
        written(ready, none, readyStatus, Optional.of(CERTIFICATE), T0.plus(Duration.ofHours(25)));
    Pod deleting = pod(true);
    deleting.getMetadata().setDeletionTimestamp("2026-03-02T12:00:00Z");
    ConveyorSidecarStatus terminating =
        written(
            deleting,
            registered(SidecarState.SIDECAR_STATE_DRAINING, Services.sink("warehouse")),
            lost,
            Optional.empty(),
            T0.plus(Duration.ofHours(26)));
    statuses.addAll(List.of(pending, registered, readyStatus, degraded, lost, terminating));

    assertThat(statuses)
        .extracting(ConveyorSidecarStatus::getPhase)
        .containsExactly(
            SidecarPhase.Pending,
            SidecarPhase.Registered,
            SidecarPhase.Ready,
            SidecarPhase.Degraded,
            SidecarPhase.Lost,
            SidecarPhase.Terminating);
    assertThat(statuses)
        .flatExtracting(s -> s.getConditions().stream().map(Condition::getReason).toList())
        .as("the certificate condition in each of its states")
        .contains("NotEnrolled", "Issued", "RenewalOverdue", "Expired");
    for (ConveyorSidecarStatus status : statuses) {
      JsonNode object =
          object(status.getPhase() == SidecarPhase.Terminating ? deleting : ready, status);
      assertThat(object.path("status").path("conditions").size())
          .as("%s conditions", status.getPhase())
          .isGreaterThanOrEqualTo(6);
      assertThat(SIDECAR.validate(object)).as("%s", status.getPhase()).isEmpty();
      assertThat(RULES.validate(object)).as("%s, CEL rules", status.getPhase()).isEmpty();
    }
  }

  @Test
  void theSchemaCheckCanFailOnAStatusField() {
    JsonNode object =
        object(
            pod(true),
            written(
                pod(true), RouterFacts.unregistered(Optional.empty()), null, Optional.empty(), T0));
    ((ObjectNode) object.path("status")).put("phase", "Running");
    ((ObjectNode) object.path("status").path("conditions").get(0)).put("severity", "High");
    ((ObjectNode) object.path("status")).put("sidecarRestarts", "two");

    assertThat(SIDECAR.validate(object))
        .anySatisfy(p -> assertThat(p).contains("phase"))
        .anySatisfy(p -> assertThat(p).contains("severity"))
        .anySatisfy(p -> assertThat(p).contains("sidecarRestarts"));
  }
}

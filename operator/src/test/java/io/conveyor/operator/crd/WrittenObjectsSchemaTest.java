package io.conveyor.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.operator.status.PipelineStatusCalculator;
import io.conveyor.operator.status.PipelineStatusCalculator.RouterOutcome;
import io.conveyor.router.pipeline.DeliverySpec;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.conveyor.testkit.CrdSchema;
import io.conveyor.testkit.CrdValidationRules;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Pipeline objects as the operator writes them — spec and the status its calculator computes —
 * serialized as the client sends them, validated whole against the openAPIV3Schema of {@code crds/}
 * and its CEL rules: what the API server would refuse on the status subresource shows here.
 * (ConveyorSidecar objects: WrittenSidecarObjectsSchemaTest.)
 */
class WrittenObjectsSchemaTest {

  private static final CrdSchema PIPELINE =
      CrdSchema.load(
          Path.of("..").toAbsolutePath().normalize().resolve("crds/pipelines.conveyor.etl-v1.yml"),
          "v1");
  private static final CrdValidationRules PIPELINE_RULES = CrdValidationRules.of(PIPELINE);
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  private static Pipeline pipeline(PipelineSpec spec, PipelineStatus status) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(
        new ObjectMetaBuilder()
            .withName("orders")
            .withNamespace("shop")
            .withGeneration(2L)
            .build());
    pipeline.setSpec(spec);
    pipeline.setStatus(status);
    return pipeline;
  }

  private static List<String> problems(Pipeline pipeline) {
    return PIPELINE.validate(SERIALIZATION.convertValue(pipeline, JsonNode.class));
  }

  private static List<String> ruleViolations(Pipeline pipeline) {
    return PIPELINE_RULES.validate(SERIALIZATION.convertValue(pipeline, JsonNode.class)).stream()
        .map(Object::toString)
        .toList();
  }

  @Test
  void anInvalidPipelineWithItsStatusMatchesTheSchema() {
    PipelineSpec spec =
        new PipelineSpec("orders", List.of("mask-pii", "mask-pii"), "warehouse", null);
    PipelineValidation.Invalid invalid =
        (PipelineValidation.Invalid) PipelineValidator.validate("shop", "orders", 2, spec);
    PipelineStatus status =
        PipelineStatusCalculator.invalid(invalid.problems(), null, 2, T0).status();

    assertThat(problems(pipeline(spec, status))).isEmpty();
    // Its spec is one the CRD's CEL rules refuse at create, as the router does: an Invalid
    // Pipeline exists on a cluster only if it was stored before the CRD had the rules.
    assertThat(ruleViolations(pipeline(spec, status)))
        .containsExactly(
            "spec.steps: Invalid value: \"array\": 'mask-pii' appears more than once (each stage"
                + " may appear once)");
  }

  @Test
  void aPendingPipelineWithDeliveryOptionsMatchesTheSchema() {
    DeliverySpec delivery = new DeliverySpec();
    delivery.setMaxBatchSize(100);
    delivery.setRetryBackoffMillis(250L);
    delivery.setDeadLetterSink("dlq");
    PipelineSpec spec = new PipelineSpec("orders", List.of("mask-pii"), "warehouse", delivery);
    PipelineStatus status =
        PipelineStatusCalculator.valid(
                new RouterOutcome.Refused("the router holds at most 1 pipelines"),
                null,
                2,
                Optional.empty(),
                T0)
            .status();

    assertThat(problems(pipeline(spec, status))).isEmpty();
    assertThat(ruleViolations(pipeline(spec, status))).isEmpty();
  }

  @Test
  void theSchemaCheckCanFail() {
    // The same check refuses what the API server would: a phase outside the enum, a bad name.
    PipelineStatus status = new PipelineStatus();
    PipelineSpec spec = new PipelineSpec("Orders", List.of(), "warehouse", null);
    JsonNode object = SERIALIZATION.convertValue(pipeline(spec, status), JsonNode.class);
    ((com.fasterxml.jackson.databind.node.ObjectNode) object.get("status")).put("phase", "Done");

    assertThat(PIPELINE.validate(object))
        .anySatisfy(p -> assertThat(p).contains("source"))
        .anySatisfy(p -> assertThat(p).contains("phase"));
  }
}

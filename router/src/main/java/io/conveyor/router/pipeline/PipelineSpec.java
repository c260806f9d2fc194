package io.conveyor.router.pipeline;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code spec} of a {@code Pipeline} (group {@code conveyor.etl}, version {@code v1}).
 *
 * <p>The same class is read from YAML files by the standalone router and serves as the spec of the
 * operator's custom resource, whose CRD schema is generated from these annotations. Fields the
 * schema cannot know are collected (not dropped) so that {@link PipelineValidator} can name them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"source", "steps", "sink", "delivery"})
// The checks across fields that PipelineValidator makes, as CEL rules of the CRD, so that a cluster
// refuses at kubectl apply what the standalone router refuses in a file. Only standard CEL (has,
// in, all, exists_one): the API server and dev.cel evaluate them the same way. Every list and
// string they touch is bounded (maxItems, maxLength), or the API server's cost estimate refuses
// the CRD.
@ValidationRule(
    value = "self.sink != self.source",
    fieldPath = ".sink",
    message = "repeats the stage at spec.source (each stage may appear once)",
    messageExpression =
        "\"'\" + self.sink + \"' repeats the stage at spec.source (each stage may appear once)\"")
@ValidationRule(
    value = "!has(self.steps) || !(self.source in self.steps)",
    fieldPath = ".steps",
    message = "a step repeats the stage at spec.source (each stage may appear once)",
    messageExpression =
        "\"'\" + self.source + \"' repeats the stage at spec.source (each stage may appear once)\"")
@ValidationRule(
    value = "!has(self.steps) || !(self.sink in self.steps)",
    fieldPath = ".sink",
    message = "repeats a stage of spec.steps (each stage may appear once)",
    messageExpression =
        "\"'\" + self.sink + \"' repeats a stage of spec.steps (each stage may appear once)\"")
@ValidationRule(
    value =
        "!has(self.delivery) || !has(self.delivery.deadLetterSink)"
            + " || (self.delivery.deadLetterSink != self.source"
            + " && self.delivery.deadLetterSink != self.sink"
            + " && !(has(self.steps) && self.delivery.deadLetterSink in self.steps))",
    fieldPath = ".delivery.deadLetterSink",
    message = "repeats a stage of the pipeline (each stage may appear once)",
    messageExpression =
        "\"'\" + self.delivery.deadLetterSink"
            + " + \"' repeats a stage of the pipeline (each stage may appear once)\"")
public class PipelineSpec {

  /** A DNS-1123 label: what a service's Describe name must look like. */
  public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

  /**
   * Longest name {@link #NAME_PATTERN} admits. Stated as maxLength too: the API server estimates
   * the cost of CEL rules from maxLength, not from a pattern.
   */
  public static final int MAX_NAME_LENGTH = 63;

  /**
   * Most steps a pipeline may have, checked by the CRD (maxItems) and by {@link PipelineValidator}
   * alike. A bound is needed for the API server to admit the CEL rules over steps; 32 transforms in
   * one pipeline is far beyond any use so far (each one adds a network hop to every batch).
   */
  public static final int MAX_STEPS = 32;

  @Required
  @Pattern(NAME_PATTERN)
  @Size(max = MAX_NAME_LENGTH)
  @JsonPropertyDescription("Logical name of the source service (the name its Describe returns).")
  private String source;

  @Size(max = MAX_STEPS)
  @ValidationRule(
      value = "self.all(s, self.exists_one(t, t == s))",
      message = "a step is repeated (each stage may appear once)",
      messageExpression =
          "\"'\" + self.filter(s, !self.exists_one(t, t == s))[0]"
              + " + \"' appears more than once (each stage may appear once)\"")
  @JsonPropertyDescription(
      "Transform services the records go through, in order, by logical name. May be empty.")
  private List<@Pattern(NAME_PATTERN) @Size(max = MAX_NAME_LENGTH) String> steps =
      new ArrayList<>();

  @Required
  @Pattern(NAME_PATTERN)
  @Size(max = MAX_NAME_LENGTH)
  @JsonPropertyDescription("Logical name of the sink service that writes the records out.")
  private String sink;

  @JsonPropertyDescription("How batches are delivered between stages.")
  private DeliverySpec delivery;

  @JsonIgnore private final Map<String, Object> unknownFields = new LinkedHashMap<>();

  public PipelineSpec() {}

  public PipelineSpec(String source, List<String> steps, String sink, DeliverySpec delivery) {
    this.source = source;
    this.steps = steps == null ? new ArrayList<>() : new ArrayList<>(steps);
    this.sink = sink;
    this.delivery = delivery;
  }

  public String getSource() {
    return source;
  }

  public void setSource(String source) {
    this.source = source;
  }

  public List<String> getSteps() {
    return steps;
  }

  public void setSteps(List<String> steps) {
    this.steps = steps == null ? new ArrayList<>() : steps;
  }

  public String getSink() {
    return sink;
  }

  public void setSink(String sink) {
    this.sink = sink;
  }

  public DeliverySpec getDelivery() {
    return delivery;
  }

  public void setDelivery(DeliverySpec delivery) {
    this.delivery = delivery;
  }

  @JsonAnySetter
  void putUnknownField(String name, Object value) {
    unknownFields.put(name, value);
  }

  /** Fields present in the source document that this spec does not know. */
  @JsonIgnore
  public Map<String, Object> unknownFields() {
    // In document order (Map.copyOf would not keep it): problem messages must be stable.
    return Collections.unmodifiableMap(new LinkedHashMap<>(unknownFields));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PipelineSpec other
        && Objects.equals(source, other.source)
        && Objects.equals(steps, other.steps)
        && Objects.equals(sink, other.sink)
        && Objects.equals(delivery, other.delivery)
        && unknownFields.equals(other.unknownFields);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, steps, sink, delivery);
  }

  @Override
  public String toString() {
    return "PipelineSpec{source="
        + source
        + ", steps="
        + steps
        + ", sink="
        + sink
        + ", delivery="
        + delivery
        + "}";
  }
}

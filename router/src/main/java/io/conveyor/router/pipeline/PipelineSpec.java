package io.conveyor.router.pipeline;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
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
public class PipelineSpec {

  /** A DNS-1123 label: what a service's Describe name must look like. */
  public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

  @Required
  @Pattern(NAME_PATTERN)
  @JsonPropertyDescription("Logical name of the source service (the name its Describe returns).")
  private String source;

  @JsonPropertyDescription(
      "Transform services the records go through, in order, by logical name. May be empty.")
  private List<String> steps = new ArrayList<>();

  @Required
  @Pattern(NAME_PATTERN)
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

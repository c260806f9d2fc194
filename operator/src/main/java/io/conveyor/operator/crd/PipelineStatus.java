package io.conveyor.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** {@code status} of a Pipeline. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"observedGeneration", "phase", "replicaSummary", "stages", "conditions"})
public class PipelineStatus {

  @JsonPropertyDescription("metadata.generation of the spec this status was computed for.")
  private Long observedGeneration;

  @JsonPropertyDescription("Pending, Running, Degraded or Invalid; the conditions say why.")
  private PipelinePhase phase;

  @JsonPropertyDescription("Replicas per stage, in order, e.g. 'orders=2 mask-pii=1 warehouse=0'.")
  private String replicaSummary;

  @JsonPropertyDescription("Every stage in order with its replica count.")
  private List<StageStatus> stages = new ArrayList<>();

  @JsonPropertyDescription("Valid, StagesServed and the summary Ready, with reasons and messages.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public PipelinePhase getPhase() {
    return phase;
  }

  public void setPhase(PipelinePhase phase) {
    this.phase = phase;
  }

  public String getReplicaSummary() {
    return replicaSummary;
  }

  public void setReplicaSummary(String replicaSummary) {
    this.replicaSummary = replicaSummary;
  }

  public List<StageStatus> getStages() {
    return stages;
  }

  public void setStages(List<StageStatus> stages) {
    this.stages = stages == null ? new ArrayList<>() : stages;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }
}

package io.conveyor.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** Where one stage of a pipeline runs, as the router planned it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"index", "name", "role", "replicas", "draining"})
public class StageStatus {

  @JsonPropertyDescription("Position in the pipeline: 0 for the source, then the steps, the sink.")
  private Integer index;

  @JsonPropertyDescription("Logical name of the service that runs the stage.")
  private String name;

  @JsonPropertyDescription("source, transform, sink or deadLetter.")
  private String role;

  @JsonPropertyDescription(
      "Pods whose sidecar runs a healthy service for the stage and takes traffic.")
  private Integer replicas;

  @JsonPropertyDescription(
      "Pods still finishing their batches for the stage but taking no new ones.")
  private Integer draining;

  public StageStatus() {}

  public StageStatus(int index, String name, String role, int replicas, int draining) {
    this.index = index;
    this.name = name;
    this.role = role;
    this.replicas = replicas;
    this.draining = draining;
  }

  public Integer getIndex() {
    return index;
  }

  public void setIndex(Integer index) {
    this.index = index;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getRole() {
    return role;
  }

  public void setRole(String role) {
    this.role = role;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public Integer getDraining() {
    return draining;
  }

  public void setDraining(Integer draining) {
    this.draining = draining;
  }
}

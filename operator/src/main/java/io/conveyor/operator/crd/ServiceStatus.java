package io.conveyor.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A Conveyor service the sidecar discovered in its pod, as the router last heard of it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "type", "health", "endpoint", "grpcService"})
public class ServiceStatus {

  @JsonPropertyDescription(
      "Logical name the service returned from Describe (what pipelines refer to).")
  private String name;

  @JsonPropertyDescription("source, transform or sink.")
  private String type;

  @JsonPropertyDescription("Serving or NotServing, as last reported by the sidecar.")
  private String health;

  @JsonPropertyDescription("Loopback address the service was found at, e.g. 127.0.0.1:50052.")
  private String endpoint;

  @JsonPropertyDescription("Fully-qualified gRPC service, e.g. conveyor.etl.v1.TransformService.")
  private String grpcService;

  public ServiceStatus() {}

  public ServiceStatus(
      String name, String type, String health, String endpoint, String grpcService) {
    this.name = name;
    this.type = type;
    this.health = health;
    this.endpoint = endpoint;
    this.grpcService = grpcService;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getType() {
    return type;
  }

  public void setType(String type) {
    this.type = type;
  }

  public String getHealth() {
    return health;
  }

  public void setHealth(String health) {
    this.health = health;
  }

  public String getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(String endpoint) {
    this.endpoint = endpoint;
  }

  public String getGrpcService() {
    return grpcService;
  }

  public void setGrpcService(String grpcService) {
    this.grpcService = grpcService;
  }
}

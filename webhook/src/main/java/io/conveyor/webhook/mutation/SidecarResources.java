package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** CPU and memory requests and limits of the sidecar; an empty value is not set on the pod. */
public record SidecarResources(
    Optional<Quantity> cpuRequest,
    Optional<Quantity> cpuLimit,
    Optional<Quantity> memoryRequest,
    Optional<Quantity> memoryLimit) {

  public SidecarResources {
    Objects.requireNonNull(cpuRequest, "cpuRequest");
    Objects.requireNonNull(cpuLimit, "cpuLimit");
    Objects.requireNonNull(memoryRequest, "memoryRequest");
    Objects.requireNonNull(memoryLimit, "memoryLimit");
  }

  /**
   * The problems that would make the API server reject the pod (a request above its limit), each
   * naming the two settings with {@code cpuRequestName} etc.
   */
  public List<String> inconsistencies(
      String cpuRequestName,
      String cpuLimitName,
      String memoryRequestName,
      String memoryLimitName) {
    List<String> problems = new ArrayList<>();
    check(cpuRequest, cpuLimit, cpuRequestName, cpuLimitName, problems);
    check(memoryRequest, memoryLimit, memoryRequestName, memoryLimitName, problems);
    return problems;
  }

  private static void check(
      Optional<Quantity> request,
      Optional<Quantity> limit,
      String requestName,
      String limitName,
      List<String> problems) {
    if (request.isPresent()
        && limit.isPresent()
        && request.get().getNumericalAmount().compareTo(limit.get().getNumericalAmount()) > 0) {
      problems.add(
          requestName
              + " ("
              + request.get()
              + ") is above "
              + limitName
              + " ("
              + limit.get()
              + "): a request must not exceed its limit");
    }
  }

  public ResourceRequirements toRequirements() {
    ResourceRequirementsBuilder builder = new ResourceRequirementsBuilder();
    cpuRequest.ifPresent(q -> builder.addToRequests("cpu", q));
    memoryRequest.ifPresent(q -> builder.addToRequests("memory", q));
    cpuLimit.ifPresent(q -> builder.addToLimits("cpu", q));
    memoryLimit.ifPresent(q -> builder.addToLimits("memory", q));
    return builder.build();
  }
}

package io.conveyor.operator.status;

import io.conveyor.common.contract.SidecarProfile;
import io.conveyor.operator.crd.ConveyorLabels;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.util.List;
import java.util.Optional;

/**
 * What the status of a ConveyorSidecar needs from its pod, read once from the Pod object.
 *
 * @param phase the pod's phase ({@code Pending} when the kubelet has not reported yet)
 * @param deleting true once the pod has a deletion timestamp
 * @param ready the pod's Ready condition
 * @param readyReason reason of the Ready condition, or null
 * @param readyMessage message of the Ready condition, or null
 * @param sidecar the conveyor-sidecar container, when the pod has one
 */
public record PodFacts(
    String namespace,
    String name,
    String uid,
    String phase,
    String podIP,
    String nodeName,
    boolean deleting,
    boolean ready,
    String readyReason,
    String readyMessage,
    Optional<SidecarContainer> sidecar) {

  /** The profile of a sidecar whose JVM options are not one the injector writes. */
  public static final String CUSTOM_PROFILE = "custom";

  /**
   * The sidecar container's state.
   *
   * @param nativeSidecar true for an init container with restartPolicy Always
   * @param profile its JIT profile ({@code compact}, {@code throughput}, or {@code custom} for JVM
   *     options the injector does not write), from its environment
   * @param waitingReason e.g. CrashLoopBackOff, null when not waiting
   * @param terminatedReason e.g. Error, null when not terminated
   */
  public record SidecarContainer(
      boolean nativeSidecar,
      String profile,
      boolean ready,
      int restarts,
      String waitingReason,
      String waitingMessage,
      String terminatedReason) {}

  public boolean running() {
    return "Running".equals(phase);
  }

  public boolean finished() {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  public static PodFacts of(Pod pod) {
    PodSpec spec = pod.getSpec();
    PodStatus status = pod.getStatus();
    String phase = status == null || status.getPhase() == null ? "Pending" : status.getPhase();
    PodCondition readyCondition =
        status == null || status.getConditions() == null
            ? null
            : status.getConditions().stream()
                .filter(c -> "Ready".equals(c.getType()))
                .findFirst()
                .orElse(null);
    return new PodFacts(
        pod.getMetadata().getNamespace(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        phase,
        status == null ? null : status.getPodIP(),
        spec == null ? null : spec.getNodeName(),
        pod.getMetadata().getDeletionTimestamp() != null,
        readyCondition != null && "True".equals(readyCondition.getStatus()),
        readyCondition == null ? null : readyCondition.getReason(),
        readyCondition == null ? null : readyCondition.getMessage(),
        sidecarContainer(spec, status));
  }

  private static Optional<SidecarContainer> sidecarContainer(PodSpec spec, PodStatus status) {
    if (spec == null) {
      return Optional.empty();
    }
    Optional<Container> asInitContainer = find(spec.getInitContainers());
    Optional<Container> container = asInitContainer.or(() -> find(spec.getContainers()));
    if (container.isEmpty()) {
      return Optional.empty();
    }
    boolean nativeSidecar = asInitContainer.isPresent();
    String profile = profile(container.get());
    List<ContainerStatus> statuses =
        status == null
            ? null
            : nativeSidecar ? status.getInitContainerStatuses() : status.getContainerStatuses();
    ContainerStatus cs =
        statuses == null
            ? null
            : statuses.stream()
                .filter(s -> ConveyorLabels.SIDECAR_CONTAINER.equals(s.getName()))
                .findFirst()
                .orElse(null);
    if (cs == null) {
      return Optional.of(new SidecarContainer(nativeSidecar, profile, false, 0, null, null, null));
    }
    String waitingReason = null;
    String waitingMessage = null;
    String terminatedReason = null;
    if (cs.getState() != null && cs.getState().getWaiting() != null) {
      waitingReason = cs.getState().getWaiting().getReason();
      waitingMessage = cs.getState().getWaiting().getMessage();
    }
    if (cs.getState() != null && cs.getState().getTerminated() != null) {
      terminatedReason = cs.getState().getTerminated().getReason();
    }
    return Optional.of(
        new SidecarContainer(
            nativeSidecar,
            profile,
            Boolean.TRUE.equals(cs.getReady()),
            cs.getRestartCount() == null ? 0 : cs.getRestartCount(),
            waitingReason,
            waitingMessage,
            terminatedReason));
  }

  private static Optional<Container> find(List<Container> containers) {
    return containers == null
        ? Optional.empty()
        : containers.stream()
            .filter(c -> ConveyorLabels.SIDECAR_CONTAINER.equals(c.getName()))
            .findFirst();
  }

  /**
   * The profile the injector wrote into the container's environment (see {@link SidecarProfile}).
   */
  private static String profile(Container sidecar) {
    String jvmOptions =
        sidecar.getEnv() == null
            ? null
            : sidecar.getEnv().stream()
                .filter(e -> SidecarProfile.JVM_OPTIONS_VARIABLE.equals(e.getName()))
                .map(e -> e.getValue() == null ? "" : e.getValue())
                .findFirst()
                .orElse(null);
    return SidecarProfile.ofJvmOptions(jvmOptions)
        .map(SidecarProfile::value)
        .orElse(CUSTOM_PROFILE);
  }
}

package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The injection itself: a pure function from a pod and where it is admitted to an {@link
 * MutationOutcome}. It reads nothing but its arguments and never modifies the pod it is given. When
 * it injects it returns what the injection adds ({@link SidecarAdditions}), which the admission
 * edge writes as a JSON Patch; when it repairs, a new pod, which the edge diffs.
 */
public final class PodMutator {

  private final SidecarSettings settings;

  public PodMutator(SidecarSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  public SidecarSettings settings() {
    return settings;
  }

  public MutationOutcome mutate(Pod pod, AdmissionTarget target) {
    Map<String, String> annotations = annotations(pod);
    String inject = annotations.get(InjectionKeys.INJECT);
    boolean requested = "true".equals(inject);

    if (InjectionKeys.SYSTEM_NAMESPACES.contains(target.namespace())
        || settings.excludedNamespaces().contains(target.namespace())) {
      return new MutationOutcome.Skipped(SkipReason.EXCLUDED_NAMESPACE, requested);
    }
    if ("false".equals(inject)) {
      return new MutationOutcome.Skipped(SkipReason.OPTED_OUT, false);
    }
    if (inject != null && !requested) {
      return new MutationOutcome.Denied(
          List.of(
              "annotation "
                  + InjectionKeys.INJECT
                  + "='"
                  + inject
                  + "' is not valid: expected \"true\" or \"false\""));
    }
    if (target.namespaceInjection() == NamespaceInjection.DISABLED) {
      // The API server sends only pods that ask for the sidecar here. The namespace's choice wins,
      // and a pod that asked must not start without its sidecar and without an error.
      return new MutationOutcome.Denied(
          List.of(
              "namespace "
                  + target.namespace()
                  + " is labelled "
                  + InjectionKeys.NAMESPACE_INJECTION
                  + "=disabled: no sidecar is injected there, but the pod asks for one ("
                  + InjectionKeys.INJECT
                  + "='"
                  + inject
                  + "'); remove the annotation, or label the namespace otherwise"));
    }
    if (!requested && !target.namespaceOptedIn()) {
      return new MutationOutcome.Skipped(SkipReason.NOT_OPTED_IN, false);
    }
    PodSpec podSpec = pod.getSpec();
    if (podSpec == null) {
      return new MutationOutcome.Denied(List.of("the pod has no spec"));
    }
    if (allContainers(podSpec).anyMatch(c -> InjectionKeys.SIDECAR_CONTAINER.equals(c.getName()))) {
      // Not injected twice; but a sidecar from an older injection still gets its credentials.
      try {
        return SidecarCredentialRepair.repair(pod)
            .<MutationOutcome>map(repaired -> repaired)
            .orElse(new MutationOutcome.Skipped(SkipReason.ALREADY_INJECTED, requested));
      } catch (InjectionDeniedException e) {
        return new MutationOutcome.Denied(e.problems());
      }
    }
    if (Boolean.TRUE.equals(podSpec.getHostNetwork())) {
      return new MutationOutcome.Skipped(SkipReason.HOST_NETWORK, true);
    }

    SidecarSpec spec;
    try {
      spec = SidecarSpecResolver.resolve(settings, annotations);
    } catch (InjectionDeniedException e) {
      return new MutationOutcome.Denied(e.problems());
    }
    List<String> conflicts = conflicts(podSpec, spec);
    if (!conflicts.isEmpty()) {
      return new MutationOutcome.Denied(conflicts);
    }

    InjectionStatus status =
        new InjectionStatus(
            settings.injectorVersion(),
            InjectionKeys.SIDECAR_CONTAINER,
            spec.mode().value(),
            spec.image(),
            InjectionKeys.VOLUMES);
    return new MutationOutcome.Injected(pod, additions(spec, status), spec, status);
  }

  private static SidecarAdditions additions(SidecarSpec spec, InjectionStatus status) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(SidecarContainerFactory.tmpVolume());
    volumes.addAll(SidecarCredentialVolumes.volumes());
    return new SidecarAdditions(
        Map.entry(InjectionKeys.INJECTED_LABEL, "true"),
        Map.entry(InjectionKeys.STATUS, status.toJson()),
        SidecarContainerFactory.container(spec),
        spec.mode() == SidecarMode.NATIVE,
        volumes);
  }

  /**
   * What in the pod would keep the sidecar from working: its ports taken, its volumes' names used.
   */
  private static List<String> conflicts(PodSpec podSpec, SidecarSpec spec) {
    List<String> problems = new ArrayList<>();
    allContainers(podSpec)
        .forEach(
            c -> {
              for (ContainerPort port : orEmpty(c.getPorts())) {
                Integer number = port.getContainerPort();
                if (number == null) {
                  continue;
                }
                if (number == spec.grpcPort()) {
                  problems.add(portTaken(c, number, "gRPC", InjectionKeys.GRPC_PORT));
                } else if (number == spec.peerPort()) {
                  problems.add(portTaken(c, number, "peer", InjectionKeys.PEER_PORT));
                } else if (number == spec.metricsPort()) {
                  problems.add(portTaken(c, number, "metrics", InjectionKeys.METRICS_PORT));
                }
              }
            });
    for (Volume volume : orEmpty(podSpec.getVolumes())) {
      if (InjectionKeys.VOLUMES.contains(volume.getName())) {
        problems.add(
            "the pod already has a volume named "
                + volume.getName()
                + ", which the sidecar needs; rename it");
      }
    }
    return problems;
  }

  private static String portTaken(Container c, int port, String what, String annotation) {
    return "container '"
        + c.getName()
        + "' uses port "
        + port
        + ", the sidecar's "
        + what
        + " port; set annotation "
        + annotation
        + " to a free port";
  }

  private static Stream<Container> allContainers(PodSpec podSpec) {
    return Stream.concat(
        orEmpty(podSpec.getInitContainers()).stream(), orEmpty(podSpec.getContainers()).stream());
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static Map<String, String> annotations(Pod pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getAnnotations() == null) {
      return Map.of();
    }
    return pod.getMetadata().getAnnotations();
  }
}

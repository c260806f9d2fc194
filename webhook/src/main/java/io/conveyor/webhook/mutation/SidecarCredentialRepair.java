package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Brings the credentials of a sidecar that an earlier injection added up to what {@link
 * SidecarCredentialVolumes} gives a new one: its pod's {@code conveyor.etl} token, the trust
 * bundle, and the empty volume over the default API token path. An injector before issue 12 gave
 * none of them, so the ServiceAccount admission plugin, which runs before the webhook, has mounted
 * the pod's default API token into that sidecar; skipping the pod as already injected would leave
 * it there.
 *
 * <p>Idempotent: a sidecar that has them all is left as it is. Nothing else of the sidecar changes
 * (its image, environment and probes are the older injection's), and the app containers keep their
 * mounts. A pod volume with one of the names whose content is not the sidecar's is refused, as at a
 * first injection.
 */
final class SidecarCredentialRepair {

  private SidecarCredentialRepair() {}

  /**
   * The pod with its sidecar's credentials complete, or empty when they already are; never modifies
   * {@code pod}.
   *
   * @throws InjectionDeniedException when a pod volume has the name of one the sidecar needs but
   *     other content
   */
  static Optional<MutationOutcome.Repaired> repair(Pod pod) throws InjectionDeniedException {
    List<String> repairs = new ArrayList<>();
    List<String> problems = new ArrayList<>();

    List<Volume> volumes = new ArrayList<>(orEmpty(pod.getSpec().getVolumes()));
    for (Volume wanted : SidecarCredentialVolumes.volumes()) {
      Optional<Volume> present =
          volumes.stream().filter(v -> wanted.getName().equals(v.getName())).findFirst();
      if (present.isEmpty()) {
        volumes.add(wanted);
        repairs.add("added volume " + wanted.getName());
      } else if (!isTheSidecars(present.get())) {
        problems.add(
            "the pod already has a volume named "
                + wanted.getName()
                + ", which the sidecar needs; rename it");
      }
    }
    if (!problems.isEmpty()) {
      throw new InjectionDeniedException(problems);
    }

    List<Container> initContainers = withMounts(pod.getSpec().getInitContainers(), repairs);
    List<Container> containers = withMounts(pod.getSpec().getContainers(), repairs);
    if (repairs.isEmpty()) {
      return Optional.empty();
    }
    PodBuilder builder = new PodBuilder(pod);
    builder.editSpec().withVolumes(volumes).endSpec();
    if (initContainers != null) {
      builder.editSpec().withInitContainers(initContainers).endSpec();
    }
    if (containers != null) {
      builder.editSpec().withContainers(containers).endSpec();
    }
    return Optional.of(new MutationOutcome.Repaired(builder.build(), repairs));
  }

  /**
   * The containers, the sidecar among them with the credential mounts and no other at their paths.
   */
  private static List<Container> withMounts(List<Container> containers, List<String> repairs) {
    if (containers == null) {
      return null;
    }
    List<Container> result = new ArrayList<>(containers.size());
    for (Container container : containers) {
      if (!InjectionKeys.SIDECAR_CONTAINER.equals(container.getName())) {
        result.add(container);
        continue;
      }
      List<VolumeMount> wanted = SidecarCredentialVolumes.mounts();
      List<VolumeMount> mounts = new ArrayList<>();
      for (VolumeMount mount : orEmpty(container.getVolumeMounts())) {
        boolean clashes =
            wanted.stream()
                .anyMatch(
                    w ->
                        w.getMountPath().equals(mount.getMountPath())
                            || w.getName().equals(mount.getName()));
        if (clashes && wanted.stream().noneMatch(w -> sameMount(w, mount))) {
          // Above all the default token's kube-api-access-* mount, which holds that path.
          repairs.add(
              "removed the sidecar's mount of " + mount.getName() + " at " + mount.getMountPath());
        } else {
          mounts.add(mount);
        }
      }
      for (VolumeMount mount : wanted) {
        if (mounts.stream().noneMatch(m -> sameMount(m, mount))) {
          mounts.add(mount);
          repairs.add("mounted " + mount.getName() + " at " + mount.getMountPath());
        }
      }
      result.add(new ContainerBuilder(container).withVolumeMounts(mounts).build());
    }
    return result;
  }

  /**
   * The same volume at the same path, read-only, whole: what {@link SidecarCredentialVolumes}
   * mounts.
   */
  private static boolean sameMount(VolumeMount wanted, VolumeMount mount) {
    return wanted.getName().equals(mount.getName())
        && wanted.getMountPath().equals(mount.getMountPath())
        && Boolean.TRUE.equals(mount.getReadOnly())
        && (mount.getSubPath() == null || mount.getSubPath().isEmpty())
        && (mount.getSubPathExpr() == null || mount.getSubPathExpr().isEmpty());
  }

  /**
   * Whether a volume of one of the sidecar's names is the sidecar's, by its kind and source: the
   * API server adds defaults (a {@code defaultMode}, for one), so it is not compared field by
   * field.
   */
  private static boolean isTheSidecars(Volume volume) {
    return switch (volume.getName()) {
      case InjectionKeys.TOKEN_VOLUME ->
          volume.getProjected() != null
              && orEmpty(volume.getProjected().getSources()).stream()
                  .map(VolumeProjection::getServiceAccountToken)
                  .filter(Objects::nonNull)
                  .anyMatch(
                      t ->
                          SidecarCredentialVolumes.TOKEN_AUDIENCE.equals(t.getAudience())
                              && "token".equals(t.getPath()));
      case InjectionKeys.TRUST_BUNDLE_VOLUME ->
          volume.getConfigMap() != null
              && InjectionKeys.TRUST_BUNDLE_CONFIG_MAP.equals(volume.getConfigMap().getName());
      case InjectionKeys.NO_API_TOKEN_VOLUME -> volume.getEmptyDir() != null;
      default -> throw new IllegalArgumentException("not a credential volume: " + volume.getName());
    };
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}

package io.conveyor.webhook.testing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the API server's ServiceAccount admission plugin does to a pod's token mounts, following
 * {@code mountServiceAccountToken} in {@code plugin/pkg/admission/serviceaccount/admission.go}:
 * unless the pod (or, not modelled here, its ServiceAccount) turns automounting off, it reuses the
 * pod's volume named {@code kube-api-access-*} or adds one, and mounts it read-only at {@code
 * /var/run/secrets/kubernetes.io/serviceaccount} into every init container and container that has
 * no mount at exactly that path. It runs before mutating webhooks, and again after them when a
 * webhook changed the pod and reinvocation applies.
 */
public final class ServiceAccountAdmission {

  public static final String DEFAULT_API_TOKEN_DIR =
      "/var/run/secrets/kubernetes.io/serviceaccount";
  public static final String VOLUME_PREFIX = "kube-api-access-";

  private ServiceAccountAdmission() {}

  /** The pod after the plugin; {@code suffix} stands for the random name it generates. */
  public static Pod admit(Pod pod, String suffix) {
    if (Boolean.FALSE.equals(pod.getSpec().getAutomountServiceAccountToken())) {
      return pod;
    }
    // A deep copy: the pod given is never modified.
    Pod copy = Fixtures.SERIALIZATION.unmarshal(Fixtures.SERIALIZATION.asJson(pod), Pod.class);
    List<Volume> volumes = new ArrayList<>(orEmpty(copy.getSpec().getVolumes()));
    String volumeName =
        volumes.stream()
            .map(Volume::getName)
            .filter(name -> name.startsWith(VOLUME_PREFIX))
            .findFirst()
            .orElse(null);
    boolean hasVolume = volumeName != null;
    if (!hasVolume) {
      volumeName = VOLUME_PREFIX + suffix;
    }
    VolumeMount mount =
        new VolumeMountBuilder()
            .withName(volumeName)
            .withReadOnly(true)
            .withMountPath(DEFAULT_API_TOKEN_DIR)
            .build();
    boolean needsVolume = false;
    for (Container container :
        Stream.concat(
                orEmpty(copy.getSpec().getInitContainers()).stream(),
                orEmpty(copy.getSpec().getContainers()).stream())
            .toList()) {
      List<VolumeMount> mounts = new ArrayList<>(orEmpty(container.getVolumeMounts()));
      if (mounts.stream().noneMatch(m -> DEFAULT_API_TOKEN_DIR.equals(m.getMountPath()))) {
        mounts.add(mount);
        container.setVolumeMounts(mounts);
        needsVolume = true;
      }
    }
    if (!hasVolume && needsVolume) {
      volumes.add(
          new VolumeBuilder()
              .withName(volumeName)
              .withNewProjected()
              .withDefaultMode(420)
              .addNewSource()
              .withNewServiceAccountToken()
              .withExpirationSeconds(3607L)
              .withPath("token")
              .endServiceAccountToken()
              .endSource()
              .addNewSource()
              .withNewConfigMap()
              .withName("kube-root-ca.crt")
              .addNewItem()
              .withKey("ca.crt")
              .withPath("ca.crt")
              .endItem()
              .endConfigMap()
              .endSource()
              .endProjected()
              .build());
      copy.getSpec().setVolumes(volumes);
    }
    return copy;
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}

package io.conveyor.operator.testing;

import io.conveyor.operator.crd.ConveyorLabels;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import java.util.List;

/** Pods as the webhook leaves them (native sidecar) and as the kubelet reports them. */
public final class Pods {

  private Pods() {}

  /** An injected pod, just scheduled: no status yet. */
  public static Pod injected(String namespace, String name) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .addToLabels("app", name)
        .addToLabels(ConveyorLabels.INJECTED, "true")
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-a")
        .addToInitContainers(
            new ContainerBuilder()
                .withName(ConveyorLabels.SIDECAR_CONTAINER)
                .withImage("conveyor-sidecar:test")
                .withRestartPolicy("Always")
                .build())
        .addToContainers(new ContainerBuilder().withName("app").withImage("app:test").build())
        .endSpec()
        .withStatus(new PodStatusBuilder().withPhase("Pending").build())
        .build();
  }

  /** An injected pod running as ServiceAccount {@code serviceAccount}. */
  public static Pod injected(String namespace, String name, String serviceAccount) {
    Pod pod = injected(namespace, name);
    pod.getSpec().setServiceAccountName(serviceAccount);
    return pod;
  }

  /** A pod without the injection label. */
  public static Pod plain(String namespace, String name) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .addToContainers(new ContainerBuilder().withName("app").withImage("app:test").build())
        .endSpec()
        .build();
  }

  /** The status of a running pod whose containers are (or are not) all ready. */
  public static PodStatus running(String ip, boolean ready) {
    return new PodStatusBuilder()
        .withPhase("Running")
        .withPodIP(ip)
        .addNewCondition()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .withReason(ready ? null : "ContainersNotReady")
        .endCondition()
        .withInitContainerStatuses(container(ConveyorLabels.SIDECAR_CONTAINER, ready))
        .withContainerStatuses(container("app", ready))
        .build();
  }

  private static List<ContainerStatus> container(String name, boolean ready) {
    return List.of(
        new ContainerStatusBuilder()
            .withName(name)
            .withReady(ready)
            .withStarted(true)
            .withRestartCount(0)
            .withNewState()
            .withNewRunning()
            .withStartedAt("2026-01-01T00:00:00Z")
            .endRunning()
            .endState()
            .build());
  }
}

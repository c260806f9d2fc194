package io.conveyor.operator.reconciler;

import io.conveyor.operator.crd.ConveyorLabels;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;

/** The ConveyorSidecar object the operator creates for a pod. */
final class SidecarObjects {

  private SidecarObjects() {}

  /**
   * Same name and namespace as the pod, owned by it (so the garbage collector removes it with the
   * pod), labelled as managed by the operator. {@code blockOwnerDeletion} stays false: deleting a
   * pod must never wait on Conveyor, and setting it would need rights on the pods' finalizers.
   */
  static ConveyorSidecar newFor(Pod pod) {
    ConveyorSidecar object = new ConveyorSidecar();
    object.setMetadata(
        new ObjectMetaBuilder()
            .withName(pod.getMetadata().getName())
            .withNamespace(pod.getMetadata().getNamespace())
            .withLabels(Map.of(ConveyorLabels.MANAGED_BY_LABEL, ConveyorLabels.MANAGED_BY))
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withName(pod.getMetadata().getName())
                    .withUid(pod.getMetadata().getUid())
                    .withController(true)
                    .withBlockOwnerDeletion(false)
                    .build())
            .build());
    return object;
  }

  /** True when the pod carries the injection label. */
  static boolean injected(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null && "true".equals(labels.get(ConveyorLabels.INJECTED));
  }
}

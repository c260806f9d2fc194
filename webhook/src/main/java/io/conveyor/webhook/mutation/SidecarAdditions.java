package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything an injection adds to a pod, and nothing else: it only ever adds. The mutated pod is
 * {@link #applyTo} the original; the admission response's JSON Patch is written from the same
 * additions, so the two cannot disagree.
 *
 * @param label the label marking the pod injected
 * @param annotation the annotation recording what was injected (its value is JSON)
 * @param sidecar the sidecar container
 * @param native_ whether it goes first among the init containers (a native sidecar) rather than
 *     last among the containers
 * @param volumes the volumes the sidecar mounts, appended to the pod's
 */
public record SidecarAdditions(
    Map.Entry<String, String> label,
    Map.Entry<String, String> annotation,
    Container sidecar,
    boolean native_,
    List<Volume> volumes) {

  public SidecarAdditions {
    volumes = List.copyOf(volumes);
  }

  /** A new pod: the original with these additions; the original is untouched. */
  public Pod applyTo(Pod original) {
    PodBuilder builder =
        new PodBuilder(original)
            .editOrNewMetadata()
            .addToLabels(label.getKey(), label.getValue())
            .addToAnnotations(annotation.getKey(), annotation.getValue())
            .endMetadata();
    if (native_) {
      List<Container> init = new ArrayList<>();
      init.add(sidecar);
      List<Container> existing = original.getSpec().getInitContainers();
      if (existing != null) {
        init.addAll(existing);
      }
      builder.editSpec().withInitContainers(init).endSpec();
    } else {
      builder.editSpec().addToContainers(sidecar).endSpec();
    }
    return builder.editSpec().addAllToVolumes(volumes).endSpec().build();
  }
}

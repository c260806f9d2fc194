package io.conveyor.podtest.spec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One container ready for runc: its runtime {@code config.json}, where its root comes from, and
 * what the runner does around it (probes, restarts, OOM detection, termination message).
 *
 * @param kind whether it is an init container run to completion, a native sidecar (an init
 *     container with restartPolicy Always, started before the app containers) or an app container
 * @param restartPolicy Always, OnFailure or Never, as the kubelet applies it to this container
 * @param imageRootfs the unpacked image; used as the root directly when {@code readOnlyRoot}
 */
public record ContainerPlan(
    String name,
    Kind kind,
    ObjectNode config,
    Path imageRootfs,
    boolean readOnlyRoot,
    long memoryLimitBytes,
    String restartPolicy,
    boolean fallbackToLogsOnError,
    Optional<ProbePlan> startupProbe,
    Optional<ProbePlan> livenessProbe,
    Optional<ProbePlan> readinessProbe,
    List<String> args) {

  /** The three kinds of container a kubelet starts, in this order. */
  public enum Kind {
    INIT,
    NATIVE_SIDECAR,
    APP
  }
}

package io.conveyor.podtest.run;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the runner behaves where a kubelet has settings of its own.
 *
 * @param workRoot where runs keep bundles, rootfs, volumes and logs
 * @param restartBackoff the first crash-loop back-off (the kubelet's is 10 s): a container's first
 *     exit restarts it at once, the next waits this long, doubled per restart ({@link
 *     CrashBackoff})
 * @param maxRestartBackoff its ceiling (the kubelet's is 5 min)
 * @param startDeadline how long an init container may take to complete, or a native sidecar to
 *     start, before the pod is reported failed
 * @param tick how often container exits and due probes are checked
 */
public record RunSettings(
    Path workRoot,
    Duration restartBackoff,
    Duration maxRestartBackoff,
    Duration startDeadline,
    Duration tick) {

  /** The kubelet's back-off, checked every 100 ms, under /var/tmp/conveyor-podtest. */
  public static RunSettings kubeletDefaults() {
    return new RunSettings(
        Path.of("/var/tmp/conveyor-podtest"),
        Duration.ofSeconds(10),
        Duration.ofMinutes(5),
        Duration.ofMinutes(2),
        Duration.ofMillis(100));
  }

  public RunSettings withRestartBackoff(Duration first) {
    return new RunSettings(workRoot, first, maxRestartBackoff, startDeadline, tick);
  }
}

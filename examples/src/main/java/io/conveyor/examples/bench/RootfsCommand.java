package io.conveyor.examples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command that runs an image's entrypoint inside the image's unpacked root filesystem, so that
 * the image's own JDK runs the image's own classpath: a mount namespace of its own (the mounts die
 * with its last process, also when it is killed) with /proc, /dev and /sys, and {@code shared}
 * bound at its own path inside the root (the local cluster's CA and bootstrap token, which the
 * sidecar's environment names by their paths); then a switch of root, as root. The host's network
 * is shared, so the router and the pods' apps on the host's loopback are reachable. Every step
 * {@code exec}s the next, so the process started is the JVM itself and a SIGTERM reaches it.
 */
final class RootfsCommand {

  private static final String SETUP =
      "set -e; r=\"$1\"; w=\"$2\"; shift 2;"
          + " mount -t proc proc \"$r/proc\";"
          + " mount --rbind /dev \"$r/dev\";"
          + " mount --rbind /sys \"$r/sys\";"
          + " mkdir -p \"$r$w\"; mount --bind \"$w\" \"$r$w\";"
          + " exec unshare --root=\"$r\" --wd=/ -- \"$@\"";

  private RootfsCommand() {}

  /** Needs root, {@code unshare} (util-linux 2.38+ for {@code --root}) and {@code mount}. */
  static List<String> of(Path rootfs, Path shared, List<String> entrypoint) {
    if (entrypoint.isEmpty()) {
      throw new IllegalArgumentException("no entrypoint to run in " + rootfs);
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                SETUP,
                "sh",
                rootfs.toAbsolutePath().normalize().toString(),
                shared.toAbsolutePath().normalize().toString()));
    command.addAll(entrypoint);
    return command;
  }
}

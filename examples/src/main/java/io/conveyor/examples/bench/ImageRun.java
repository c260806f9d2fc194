package io.conveyor.examples.bench;

import io.conveyor.examples.local.Component;
import io.conveyor.examples.local.Launcher;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sidecar run from its image rather than from the local jar: {@code --rootfs=DIR --work=DIR
 * [--NAME=value]... -- ENTRYPOINT...}, where DIR is the image unpacked ({@code
 * io.conveyor.images.UnpackMain}, which prints the entrypoint) and the work folder the local
 * cluster's, shared with the sidecar inside the image (see {@link RootfsCommand}). Used by the
 * training of the image's class archive and by {@code ./conveyor bench startup} on the image.
 */
record ImageRun(Path rootfs, Path work, Map<String, String> options, List<String> entrypoint) {

  /**
   * Parses the arguments; {@code extra} names the options besides rootfs and work that must be
   * given.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static ImageRun parse(List<String> args, Set<String> extra, String usage) {
    Map<String, String> options = new HashMap<>();
    int i = 0;
    for (; i < args.size() && !args.get(i).equals("--"); i++) {
      String arg = args.get(i);
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("not an option: " + arg + ". " + usage);
      }
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    List<String> entrypoint = List.copyOf(args.subList(Math.min(i + 1, args.size()), args.size()));
    Set<String> expected = new java.util.HashSet<>(extra);
    expected.addAll(Set.of("rootfs", "work"));
    if (!options.keySet().equals(expected) || entrypoint.isEmpty()) {
      throw new IllegalArgumentException(usage);
    }
    return new ImageRun(
        Path.of(options.get("rootfs")).toAbsolutePath().normalize(),
        Path.of(options.get("work")).toAbsolutePath().normalize(),
        Map.copyOf(options),
        entrypoint);
  }

  /** The local jars, but the sidecar as this image's entrypoint inside its root filesystem. */
  Launcher launcher(Path repoRoot) {
    return Launcher.jars(repoRoot)
        .withCommand(Component.SIDECAR, RootfsCommand.of(rootfs, work, entrypoint));
  }

  /** Whether the entrypoint names a class archive. */
  boolean classArchive() {
    return entrypoint.stream().anyMatch(a -> a.startsWith(Launcher.SHARED_ARCHIVE_FILE));
  }
}

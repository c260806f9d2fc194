package io.conveyor.examples.bench.mesh;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the {@code haproxy} executable is: the first one on {@code PATH}, as a shell finds it. */
public final class HaproxyBinary {

  private HaproxyBinary() {}

  /** The first executable {@code haproxy} in the folders of {@code path}; empty when none. */
  public static Optional<Path> onPath(String path) {
    if (path == null || path.isBlank()) {
      return Optional.empty();
    }
    for (String folder : path.split(File.pathSeparator)) {
      if (folder.isBlank()) {
        continue;
      }
      Path candidate = Path.of(folder, "haproxy");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate.toAbsolutePath());
      }
    }
    return Optional.empty();
  }

  /** As {@link #onPath(String)} with this process's {@code PATH}. */
  public static Optional<Path> find() {
    return onPath(System.getenv("PATH"));
  }
}

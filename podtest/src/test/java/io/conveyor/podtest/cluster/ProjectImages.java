package io.conveyor.podtest.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The project's own image tarballs, as {@code ./conveyor images} writes them (target/images at the
 * repository root). Missing, a scenario is skipped with one line saying how to build them, as
 * ImagesTest does; under {@code CONVEYOR_REQUIRE_IMAGES=1} (CI, after the images were built) it
 * fails instead, so a scenario never passes by not running.
 */
public final class ProjectImages {

  public static final String REGISTRY = "ghcr.io/conveyor-etl/";
  public static final String TAG = ":0.1.0";

  private ProjectImages() {}

  /** The tarball of {@code artifact} (e.g. conveyor-sidecar); skips or fails when it is missing. */
  public static Path require(String artifact) {
    Path tarball =
        Path.of("..", "target", "images", artifact + ".tar").toAbsolutePath().normalize();
    if (!Files.isRegularFile(tarball)) {
      String message =
          "no image tarball "
              + tarball
              + ": run ./conveyor images at the repository root (as root, ~5 min)";
      if ("1".equals(System.getenv("CONVEYOR_REQUIRE_IMAGES"))) {
        Assertions.fail(message + " (CONVEYOR_REQUIRE_IMAGES=1)");
      }
      Assumptions.abort(message);
    }
    return tarball;
  }

  public static String name(String artifact) {
    return REGISTRY + artifact + TAG;
  }
}

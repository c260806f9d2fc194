package io.conveyor.examples.bench;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.config.EnvReader;
import io.conveyor.common.contract.SidecarProfile;
import io.conveyor.examples.local.Component;
import io.conveyor.examples.local.Launcher;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The sidecar a benchmark of one sidecar's start or memory runs: the local jar, or with {@code
 * --rootfs=DIR --work=DIR -- ENTRYPOINT...} the image's (see {@link ImageRun}); with whether it has
 * a class archive to compare against.
 */
record BenchSidecar(Optional<ImageRun> image, Launcher launcher, boolean archive) {

  /** From a benchmark's arguments; exits 2 with one line on bad arguments or a missing build. */
  static BenchSidecar fromArgs(String[] args, String usage, Path root) {
    Optional<ImageRun> image;
    SidecarProfile profile;
    try {
      image =
          args.length == 0
              ? Optional.empty()
              : Optional.of(ImageRun.parse(List.of(args), Set.of(), usage));
      EnvReader env = new EnvReader(System.getenv());
      profile = BenchSettings.sidecarProfile(env);
      env.validate();
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
      throw e; // not reached
    }
    Launcher launcher =
        image
            .map(i -> i.launcher(root))
            .orElseGet(() -> Launcher.jars(root))
            .withSidecarProfile(profile);
    if (!launcher.missing().isEmpty()) {
      System.err.println("bench: build first (./conveyor build); missing " + launcher.missing());
      System.exit(2);
    }
    boolean archive =
        image.isPresent()
            ? image.get().classArchive()
            : launcher.classArchive(Component.SIDECAR).isPresent();
    return new BenchSidecar(image, launcher, archive);
  }
}

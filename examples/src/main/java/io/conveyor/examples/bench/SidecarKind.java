package io.conveyor.examples.bench;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One kind of sidecar a start-up or memory benchmark alternates with another: a label for the lines
 * printed, a key for the figures' names, whether the class archive is used, and JVM flags added
 * after the sidecar's options files (overriding them).
 *
 * <p>By default the two kinds are the sidecar without and with its class archive. With variant
 * flags ({@code BENCH_STARTUP_VARIANT_FLAGS}, {@code BENCH_MEMORY_VARIANT_FLAGS}) they are the
 * sidecar as built ({@code base}) and the same sidecar with those flags ({@code variant}), both
 * with the archive where there is one: an A/B of a flag, or of a code path behind a system
 * property, in one run.
 */
record SidecarKind(String label, String key, boolean archive, List<String> jvmFlags) {

  static final SidecarKind WITHOUT_ARCHIVE =
      new SidecarKind("archive=no", "no_archive", false, List.of());
  static final SidecarKind WITH_ARCHIVE =
      new SidecarKind("archive=yes", "archive", true, List.of());

  /**
   * The kinds a bench alternates given the environment's {@code variable} (its variant flags), or
   * exits 2 when flags are given for the image's sidecar (its command is the image's entrypoint,
   * which takes no flags after its options files).
   */
  static List<SidecarKind> fromEnv(
      Map<String, String> env, String variable, boolean archive, boolean image) {
    List<SidecarKind> kinds = alternated(archive, Optional.ofNullable(env.get(variable)));
    Optional<SidecarKind> variant = kinds.stream().filter(SidecarKind::isVariant).findFirst();
    if (variant.isPresent()) {
      if (image) {
        System.err.println("bench: " + variable + " is not for the image's sidecar");
        System.exit(2);
      }
      System.out.println(
          "bench: variant = the sidecar with the JVM flags "
              + String.join(" ", variant.get().jvmFlags()));
    }
    return kinds;
  }

  /** Whether this is the variant of an A/B of flags (the only kind with flags of its own). */
  boolean isVariant() {
    return !jvmFlags.isEmpty();
  }

  /**
   * The kinds to alternate, in order: {@code variantFlags} (space-separated, blank for none)
   * against the sidecar as built, else the sidecar without its archive against with it, where it
   * has one.
   */
  static List<SidecarKind> alternated(boolean archive, Optional<String> variantFlags) {
    return variantFlags
        .map(String::trim)
        .filter(flags -> !flags.isEmpty())
        .map(
            flags ->
                List.of(
                    new SidecarKind("base", "base", archive, List.of()),
                    new SidecarKind("variant", "variant", archive, List.of(flags.split("\\s+")))))
        .orElse(archive ? List.of(WITHOUT_ARCHIVE, WITH_ARCHIVE) : List.of(WITHOUT_ARCHIVE));
  }
}

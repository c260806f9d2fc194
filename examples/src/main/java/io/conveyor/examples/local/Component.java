package io.conveyor.examples.local;

import io.conveyor.common.contract.SidecarProfile;
import java.util.Optional;

/** The Conveyor binaries a local cluster runs, with their jar, main class and JVM options file. */
public enum Component {
  ROUTER(
      "router/target/conveyor-router.jar",
      "io.conveyor.router.standalone.StandaloneRouterMain",
      null,
      null,
      null,
      false),
  SIDECAR(
      "sidecar/target/conveyor-sidecar.jar",
      "io.conveyor.sidecar.SidecarMain",
      "sidecar/jvm.options",
      "sidecar/target/conveyor-sidecar.jsa",
      "sidecar/target/native",
      true),
  EXAMPLES(
      "examples/target/conveyor-examples.jar",
      "io.conveyor.examples.support.ExamplesMain",
      null,
      null,
      null,
      false);

  private final String jar;
  private final String mainClass;
  private final String jvmOptionsFile;
  private final String classArchive;
  private final String nativeLibraries;
  private final boolean profiles;

  Component(
      String jar,
      String mainClass,
      String jvmOptionsFile,
      String classArchive,
      String nativeLibraries,
      boolean profiles) {
    this.jar = jar;
    this.mainClass = mainClass;
    this.jvmOptionsFile = jvmOptionsFile;
    this.classArchive = classArchive;
    this.nativeLibraries = nativeLibraries;
    this.profiles = profiles;
  }

  /** Path of the runnable jar, relative to the repository root. */
  public String jar() {
    return jar;
  }

  public String mainClass() {
    return mainClass;
  }

  /**
   * The component's JVM options file (a java {@code @argfile}), relative to the repository root:
   * the same file the container image uses, so that local runs measure what ships.
   */
  public Optional<String> jvmOptionsFile() {
    return Optional.ofNullable(jvmOptionsFile);
  }

  /**
   * Where the build keeps the component's class-data-sharing archive (made by a training run of
   * {@link #jar()}, valid only with that very jar), relative to the repository root.
   */
  public Optional<String> classArchive() {
    return Optional.ofNullable(classArchive);
  }

  /**
   * The folder of native libraries the component's JVMs load from ({@code java.library.path}),
   * relative to the repository root: the sidecar's, unpacked by its build as its image ships them
   * in {@code /app/native}.
   */
  public Optional<String> nativeLibraries() {
    return Optional.ofNullable(nativeLibraries);
  }

  /**
   * Whether the component's JVMs run one of the {@link SidecarProfile}s (the sidecar's): an argfile
   * of {@link SidecarProfile#SOURCE_FOLDER} after its options file.
   */
  public boolean hasProfiles() {
    return profiles;
  }
}

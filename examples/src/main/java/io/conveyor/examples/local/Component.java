package io.conveyor.examples.local;

import io.conveyor.common.contract.SidecarProfile;
import java.util.Optional;

/** The Conveyor binaries a local cluster runs, with their jar, main class and JVM options file. */
public enum Component {
  ROUTER(
      "router/target/conveyor-router.jar",
      "io.conveyor.router.standalone.StandaloneRouterMain",
      "router/jvm.options",
      null,
      null,
      null),
  SIDECAR(
      "sidecar/target/conveyor-sidecar.jar",
      "io.conveyor.sidecar.SidecarMain",
      "sidecar/jvm.options",
      "sidecar/target/conveyor-sidecar.jsa",
      "sidecar/target/native",
      "sidecar/profiles"),
  EXAMPLES(
      "examples/target/conveyor-examples.jar",
      "io.conveyor.examples.support.ExamplesMain",
      null,
      null,
      null,
      null);

  private final String jar;
  private final String mainClass;
  private final String jvmOptionsFile;
  private final String classArchive;
  private final String nativeLibraries;
  private final String profiles;

  Component(
      String jar,
      String mainClass,
      String jvmOptionsFile,
      String classArchive,
      String nativeLibraries,
      String profiles) {
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
   * The folder of the component's JIT profiles ({@link SidecarProfile}: the sidecar's), one java
   * argfile each, relative to the repository root; what its image ships in {@link
   * SidecarProfile#IMAGE_FOLDER}.
   */
  public Optional<String> profiles() {
    return Optional.ofNullable(profiles);
  }
}

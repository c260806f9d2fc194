package io.conveyor.examples.local;

import java.util.Optional;

/** The Conveyor binaries a local cluster runs, with their jar, main class and JVM options file. */
public enum Component {
  ROUTER(
      "router/target/conveyor-router.jar",
      "io.conveyor.router.standalone.StandaloneRouterMain",
      null),
  SIDECAR(
      "sidecar/target/conveyor-sidecar.jar",
      "io.conveyor.sidecar.SidecarMain",
      "sidecar/jvm.options"),
  EXAMPLES(
      "examples/target/conveyor-examples.jar", "io.conveyor.examples.support.ExamplesMain", null);

  private final String jar;
  private final String mainClass;
  private final String jvmOptionsFile;

  Component(String jar, String mainClass, String jvmOptionsFile) {
    this.jar = jar;
    this.mainClass = mainClass;
    this.jvmOptionsFile = jvmOptionsFile;
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
}

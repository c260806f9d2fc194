package io.conveyor.sidecar.cluster;

/** The sidecar build's version, as reported to the router. */
final class SidecarVersion {

  static final String VERSION =
      SidecarVersion.class.getPackage().getImplementationVersion() == null
          ? "dev"
          : SidecarVersion.class.getPackage().getImplementationVersion();

  private SidecarVersion() {}
}

package io.conveyor.podtest.spec;

import java.nio.file.Path;

/**
 * Where the runner keeps one pod's files on the host: bundles, volumes, logs, /etc/hosts and
 * /etc/resolv.conf.
 */
public record PodLayout(Path dir) {

  public Path bundle(String container) {
    return dir.resolve("containers").resolve(container);
  }

  /** The mount point of a container's own writable root (an overlay on the image's rootfs). */
  public Path writableRoot(String container) {
    return bundle(container).resolve("rootfs");
  }

  public Path volume(String name) {
    return dir.resolve("volumes").resolve(name);
  }

  public Path log(String container) {
    return dir.resolve("logs").resolve(container + ".log");
  }

  public Path terminationMessage(String container) {
    return dir.resolve("termination").resolve(container);
  }

  public Path etcHosts() {
    return dir.resolve("etc-hosts");
  }

  public Path etcResolvConf() {
    return dir.resolve("etc-resolv.conf");
  }

  public Path etcHostname() {
    return dir.resolve("etc-hostname");
  }
}

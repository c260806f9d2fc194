package io.conveyor.podtest.spec;

import java.nio.file.Path;
import java.util.Map;

/** A pod volume as the runner prepares it on the host before any container starts. */
public sealed interface VolumePlan {

  String name();

  Path hostDir();

  /**
   * An emptyDir on disk: a world-writable host directory. A sizeLimit is enforced as the kubelet
   * does it, by measuring and evicting the pod, not by the filesystem.
   */
  record EmptyDir(String name, Path hostDir, long sizeLimitBytes) implements VolumePlan {}

  /** An emptyDir with medium Memory: a tmpfs of sizeLimit bytes on the host, shared by the pod. */
  record MemoryDir(String name, Path hostDir, long sizeBytes) implements VolumePlan {}

  /** Files the kubelet writes (projected token, configMap items), read-only, with their mode. */
  record Files(String name, Path hostDir, Map<String, byte[]> files, int mode)
      implements VolumePlan {}
}

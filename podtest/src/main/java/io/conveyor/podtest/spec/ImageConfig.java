package io.conveyor.podtest.spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a container runtime takes from an image: its unpacked root filesystem and the parts of its
 * config the runtime uses (entrypoint, cmd, env, user, working directory).
 */
public record ImageConfig(
    Path rootfs,
    List<String> entrypoint,
    List<String> cmd,
    List<String> env,
    String user,
    String workingDir) {

  public ImageConfig {
    Objects.requireNonNull(rootfs, "rootfs");
    entrypoint = List.copyOf(entrypoint);
    cmd = List.copyOf(cmd);
    env = List.copyOf(env);
    user = user == null ? "" : user;
    workingDir = workingDir == null || workingDir.isEmpty() ? "/" : workingDir;
  }
}

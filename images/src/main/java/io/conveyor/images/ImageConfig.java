package io.conveyor.images;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The runtime settings a base image's config carries (the parts a container runtime reads when the
 * pod spec does not say otherwise): the user, the environment and the working directory.
 *
 * @param user numeric {@code uid:gid}, as {@code runAsNonRoot} can only check a number
 * @param env {@code NAME=value} entries, in order
 * @param workingDir absolute path the process starts in
 * @param createdBy one line for the image's history: how the root filesystem was made
 */
public record ImageConfig(String user, List<String> env, String workingDir, String createdBy) {

  private static final Pattern NUMERIC_USER = Pattern.compile("\\d+:\\d+");
  private static final Pattern ENV_ENTRY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*");

  public ImageConfig {
    if (user == null || !NUMERIC_USER.matcher(user).matches()) {
      throw new IllegalArgumentException("user must be numeric uid:gid, got '" + user + "'");
    }
    env = List.copyOf(env);
    for (String entry : env) {
      if (!ENV_ENTRY.matcher(entry).matches()) {
        throw new IllegalArgumentException("env entry must be NAME=value, got '" + entry + "'");
      }
    }
    if (workingDir == null || !workingDir.startsWith("/")) {
      throw new IllegalArgumentException(
          "working directory must be an absolute path, got '" + workingDir + "'");
    }
    if (createdBy == null || createdBy.isBlank()) {
      throw new IllegalArgumentException("createdBy must say how the layer was made");
    }
  }
}

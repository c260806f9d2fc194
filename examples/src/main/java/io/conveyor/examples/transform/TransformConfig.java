package io.conveyor.examples.transform;

import io.conveyor.common.config.EnvReader;
import io.conveyor.examples.support.ServerSettings;
import java.util.Map;

/**
 * Settings of the demo transform runnable, read once from the environment: PORT (50053), ADMIN_PORT
 * (9102), BIND_ADDRESS, and the {@link TransformSettings}.
 */
public record TransformConfig(ServerSettings server, TransformSettings transform) {

  public static TransformConfig fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    ServerSettings server = ServerSettings.read(reader, 50053, 9102);
    TransformSettings transform = TransformSettings.read(reader);
    reader.validate();
    return new TransformConfig(server, transform);
  }
}

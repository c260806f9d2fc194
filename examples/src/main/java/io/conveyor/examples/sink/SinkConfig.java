package io.conveyor.examples.sink;

import io.conveyor.common.config.EnvReader;
import io.conveyor.examples.support.ServerSettings;
import java.util.Map;

/**
 * Settings of the demo sink runnable, read once from the environment: PORT (50054), ADMIN_PORT
 * (9103, serves /stats), BIND_ADDRESS, and the {@link SinkSettings}.
 */
public record SinkConfig(ServerSettings server, SinkSettings sink) {

  public static SinkConfig fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    ServerSettings server = ServerSettings.read(reader, 50054, 9103);
    SinkSettings sink = SinkSettings.read(reader);
    reader.validate();
    return new SinkConfig(server, sink);
  }
}

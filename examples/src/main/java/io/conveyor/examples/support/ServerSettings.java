package io.conveyor.examples.support;

import io.conveyor.common.config.EnvReader;

/**
 * Where an example service listens.
 *
 * @param bindAddress address of both servers ({@code BIND_ADDRESS})
 * @param port gRPC port ({@code PORT}); 0 picks a free port, printed in the serving line
 * @param adminPort plain-HTTP admin port with /metrics, /healthz, /readyz and, for the sink, /stats
 *     ({@code ADMIN_PORT}, alias {@code METRICS_PORT}); 0 picks a free port
 */
public record ServerSettings(String bindAddress, int port, int adminPort) {

  /** Reads BIND_ADDRESS, PORT and ADMIN_PORT (or its alias METRICS_PORT). */
  public static ServerSettings read(EnvReader reader, int defaultPort, int defaultAdminPort) {
    String bind = reader.string("BIND_ADDRESS", "0.0.0.0");
    int port = reader.integer("PORT", defaultPort, 0, 65_535);
    int admin = reader.integer("ADMIN_PORT", defaultAdminPort, 0, 65_535);
    if (reader.raw("ADMIN_PORT").isEmpty()) {
      admin = reader.integer("METRICS_PORT", defaultAdminPort, 0, 65_535);
    } else if (reader.raw("METRICS_PORT").isPresent()
        && !reader.raw("METRICS_PORT").equals(reader.raw("ADMIN_PORT"))) {
      reader.problem(
          "ADMIN_PORT and METRICS_PORT name the same port; set one of them, not two different values");
    }
    if (port != 0 && port == admin) {
      reader.problem("PORT and ADMIN_PORT must differ, both are " + port);
    }
    return new ServerSettings(bind, port, admin);
  }
}

package io.conveyor.operator.status;

import io.conveyor.etl.v1.ServiceHealth;

/**
 * How {@code status.services[].health} spells the health a sidecar reports for a service. Decisions
 * are made on {@link ServiceHealth}; this is where it turns into the API's string and, for a status
 * carried over from the object, back.
 */
enum ServiceHealthName {
  SERVING(ServiceHealth.SERVICE_HEALTH_SERVING, "Serving"),
  NOT_SERVING(ServiceHealth.SERVICE_HEALTH_NOT_SERVING, "NotServing");

  /** Written for a health this operator does not know. */
  static final String UNKNOWN = "Unknown";

  private final ServiceHealth health;
  private final String name;

  ServiceHealthName(ServiceHealth health, String name) {
    this.health = health;
    this.name = name;
  }

  static String of(ServiceHealth health) {
    for (ServiceHealthName n : values()) {
      if (n.health == health) {
        return n.name;
      }
    }
    return UNKNOWN;
  }

  /** The health a status field says; unspecified when it is absent or not one of ours. */
  static ServiceHealth parse(String name) {
    for (ServiceHealthName n : values()) {
      if (n.name.equals(name)) {
        return n.health;
      }
    }
    return ServiceHealth.SERVICE_HEALTH_UNSPECIFIED;
  }
}

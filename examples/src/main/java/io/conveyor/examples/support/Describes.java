package io.conveyor.examples.support;

import io.conveyor.common.config.EnvReader;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import java.util.regex.Pattern;

/** What the example services answer to Describe, and the rule their names follow. */
public final class Describes {

  public static final String VERSION = "0.1.0";

  /** A DNS-1123 label, like every logical service name in a Pipeline. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private Describes() {}

  public static ServiceDescriptor descriptor(String name, ServiceType type, int maxBatchSize) {
    return ServiceDescriptor.newBuilder()
        .setName(name)
        .setType(type)
        .setMaxBatchSize(maxBatchSize)
        .setVersion(VERSION)
        .putLabels("app.kubernetes.io/part-of", "conveyor-examples")
        .build();
  }

  /** Reads the service's logical name from {@code NAME}. */
  public static String name(EnvReader reader, String defaultName) {
    return reader.matching(
        "NAME", defaultName, NAME, "a DNS-1123 label (lowercase letters, digits, '-'; at most 63)");
  }
}

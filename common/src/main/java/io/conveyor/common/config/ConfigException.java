package io.conveyor.common.config;

import java.util.List;

/** Configuration that cannot be used; the message names every bad setting and what it accepts. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super("invalid configuration: " + String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** One entry per bad setting, each naming the setting, the value and what is accepted. */
  public List<String> problems() {
    return problems;
  }
}

package io.conveyor.common.config;

/** A {@code host:port} address as found in configuration. */
public record HostPort(String host, int port) {

  public HostPort {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host is empty");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port " + port + " is not in 1-65535");
    }
  }

  /**
   * Parses {@code host:port}, {@code [v6addr]:port}, optionally prefixed with {@code dns:///} (the
   * gRPC target form).
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static HostPort parse(String text) {
    String s = text.strip();
    if (s.startsWith("dns:///")) {
      s = s.substring("dns:///".length());
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not host:port");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "'" + text + "' is not host:port (write IPv6 as [addr]:port)");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has a port that is not a number");
    }
    return new HostPort(host, port);
  }

  @Override
  public String toString() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }
}

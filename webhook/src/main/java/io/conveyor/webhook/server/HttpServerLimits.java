package io.conveyor.webhook.server;

import java.time.Duration;

/**
 * Timeouts of the JDK HTTP server. It reads them from system properties once, when its first
 * server is created, so they are set at the very start of {@code main}.
 */
public final class HttpServerLimits {

  private HttpServerLimits() {}

  /**
   * Bounds the time a connection may take to send its request and to receive its response, and
   * how long an idle keep-alive connection is kept. Properties already set win.
   */
  public static void apply(Duration requestTimeout) {
    setIfAbsent("sun.net.httpserver.maxReqTime", Long.toString(requestTimeout.toSeconds()));
    setIfAbsent("sun.net.httpserver.maxRspTime", Long.toString(requestTimeout.toSeconds()));
    setIfAbsent("sun.net.httpserver.idleInterval", "60");
    setIfAbsent("sun.net.httpserver.maxIdleConnections", "200");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}

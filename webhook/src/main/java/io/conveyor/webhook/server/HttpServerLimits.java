package io.conveyor.webhook.server;

import java.time.Duration;

/**
 * Timeouts of the JDK HTTP server. It reads them from system properties once, when its first server
 * is created in the JVM, so they are set before the webhook creates its servers.
 */
public final class HttpServerLimits {

  private HttpServerLimits() {}

  /**
   * Bounds the time a connection may take to send its request and to receive its response, and how
   * long an idle keep-alive connection is kept. Properties already set win.
   */
  public static void apply(Duration requestTimeout) {
    // Without TCP_NODELAY the server's separate writes of headers and body meet the client's
    // delayed ACK: every response waits ~40 ms.
    setIfAbsent("sun.net.httpserver.nodelay", "true");
    setIfAbsent("sun.net.httpserver.maxReqTime", Long.toString(requestTimeout.toSeconds()));
    setIfAbsent("sun.net.httpserver.maxRspTime", Long.toString(requestTimeout.toSeconds()));
    setIfAbsent("sun.net.httpserver.idleInterval", "60");
    setIfAbsent("sun.net.httpserver.maxIdleConnections", "200");
    // Honoured by the JDK releases that have it (a newer 17 update or later); others ignore it.
    setIfAbsent("jdk.httpserver.maxConnections", "1024");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}

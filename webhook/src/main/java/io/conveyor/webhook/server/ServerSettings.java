package io.conveyor.webhook.server;

import java.time.Duration;

/**
 * Limits of the HTTPS admission server.
 *
 * @param bindAddress the IP address both servers listen on ({@code 0.0.0.0}: every interface)
 * @param httpsPort the admission port (0 picks a free one)
 * @param metricsPort the plain-HTTP admin port: metrics, health, readiness (0 picks a free one)
 * @param threads worker threads (TLS handshakes and admissions)
 * @param queue requests waiting for a worker; beyond that new connections are closed at once
 * @param maxRequestBytes the largest AdmissionReview accepted (413 beyond)
 * @param requestTimeout how long a connection may take to send a request or receive a response
 * @param shutdownDelay how long to keep serving after SIGTERM while endpoints are updated
 * @param warmupReviews synthetic reviews run in-process before reporting ready
 * @param warmupHandshakes TLS handshakes made with the server itself before reporting ready
 */
public record ServerSettings(
    String bindAddress,
    int httpsPort,
    int metricsPort,
    int threads,
    int queue,
    long maxRequestBytes,
    Duration requestTimeout,
    Duration shutdownDelay,
    int warmupReviews,
    int warmupHandshakes) {

  public ServerSettings {
    if (bindAddress == null || bindAddress.isBlank()) {
      throw new IllegalArgumentException("bindAddress must be an IP address");
    }
    if (threads < 1 || queue < 1 || maxRequestBytes < 1) {
      throw new IllegalArgumentException("threads, queue and maxRequestBytes must be positive");
    }
  }
}

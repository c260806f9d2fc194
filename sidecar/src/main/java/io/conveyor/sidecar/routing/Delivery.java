package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.DeliveryOptions;
import java.time.Duration;

/** Delivery options of a pipeline as the sidecar applies them, with safe floors. */
public record Delivery(
    int maxBatchSize, int maxRetries, Duration retryBackoff, Duration batchTimeout) {

  static Delivery fromProto(DeliveryOptions options) {
    return new Delivery(
        options.getMaxBatchSize() > 0 ? options.getMaxBatchSize() : 500,
        Math.max(0, options.getMaxRetries()),
        Duration.ofMillis(Math.max(1, options.getRetryBackoffMillis())),
        Duration.ofMillis(
            options.getBatchTimeoutMillis() > 0 ? options.getBatchTimeoutMillis() : 30_000));
  }
}

package io.conveyor.router.pipeline;

import java.time.Duration;
import java.util.Optional;

/** Delivery options of a validated pipeline, with every default filled in. */
public record DeliveryOptions(
    int maxBatchSize,
    int maxRetries,
    Duration retryBackoff,
    Duration batchTimeout,
    Optional<String> deadLetterSink) {

  public static final int DEFAULT_MAX_BATCH_SIZE = 500;
  public static final int DEFAULT_MAX_RETRIES = 3;
  public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(100);
  public static final Duration DEFAULT_BATCH_TIMEOUT = Duration.ofSeconds(30);

  public static DeliveryOptions defaults() {
    return resolve(null);
  }

  /** Fills the unset fields of a (validated) spec with the defaults. */
  public static DeliveryOptions resolve(DeliverySpec spec) {
    DeliverySpec s = spec == null ? new DeliverySpec() : spec;
    return new DeliveryOptions(
        s.getMaxBatchSize() == null ? DEFAULT_MAX_BATCH_SIZE : s.getMaxBatchSize(),
        s.getMaxRetries() == null ? DEFAULT_MAX_RETRIES : s.getMaxRetries(),
        s.getRetryBackoffMillis() == null
            ? DEFAULT_RETRY_BACKOFF
            : Duration.ofMillis(s.getRetryBackoffMillis()),
        s.getBatchTimeoutSeconds() == null
            ? DEFAULT_BATCH_TIMEOUT
            : Duration.ofSeconds(s.getBatchTimeoutSeconds()),
        Optional.ofNullable(s.getDeadLetterSink()));
  }
}

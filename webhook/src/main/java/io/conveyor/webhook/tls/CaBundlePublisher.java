package io.conveyor.webhook.tls;

/** Makes the trust bundle known to whoever calls the webhook. */
public interface CaBundlePublisher {

  /**
   * Publishes the bundle if it is not published yet.
   *
   * @param bundlePem the CA certificates in PEM
   * @return whether anything was changed
   * @throws RuntimeException when it could not be published; the caller retries
   */
  boolean publish(String bundlePem);

  /** Publishes nothing: local runs without an API server. */
  static CaBundlePublisher none() {
    return bundlePem -> false;
  }

  /** Publishes with this one, then with {@code next}. */
  default CaBundlePublisher andThen(CaBundlePublisher next) {
    return bundlePem -> publish(bundlePem) | next.publish(bundlePem);
  }
}

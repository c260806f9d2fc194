package io.conveyor.webhook;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.webhook.config.WebhookConfig;
import io.conveyor.webhook.tls.TlsSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar conveyor-webhook.jar}: configuration from the environment, then run until
 * SIGTERM.
 */
public final class WebhookMain {

  private WebhookMain() {}

  public static void main(String[] args) {
    WebhookConfig config;
    try {
      config = WebhookConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("conveyor-webhook: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logger log = LoggerFactory.getLogger(WebhookMain.class);

    Optional<KubernetesClient> client =
        config.tls().store() == TlsSettings.Store.KUBERNETES
            ? Optional.of(new KubernetesClientBuilder().build())
            : Optional.empty();
    WebhookApp app =
        WebhookApp.start(
            config, client, Clock.systemUTC(), MetricsRegistries.prometheus("webhook"));

    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.startDraining();
                  long delay = config.server().shutdownDelay().toMillis();
                  log.info("shutting down: not ready now, still answering for {} ms", delay);
                  try {
                    // Endpoints controllers and kube-proxy need a moment to stop sending us calls;
                    // with failurePolicy Fail a refused connection would fail a pod creation.
                    Thread.sleep(delay);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  app.close(2);
                  client.ifPresent(KubernetesClient::close);
                  log.info("stopped");
                },
                "shutdown"));
  }
}

package io.conveyor.webhook.tls;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the trust bundle into {@code clientConfig.caBundle} of every webhook of the
 * MutatingWebhookConfiguration, only when it differs, with an update that carries the {@code
 * resourceVersion} read (a concurrent writer makes it re-read and try again, a few times).
 */
public final class WebhookConfigurationCaBundlePublisher implements CaBundlePublisher {

  private static final Logger log =
      LoggerFactory.getLogger(WebhookConfigurationCaBundlePublisher.class);
  static final int CONFLICT_ATTEMPTS = 5;

  private final KubernetesClient client;
  private final String name;

  public WebhookConfigurationCaBundlePublisher(KubernetesClient client, String name) {
    this.client = client;
    this.name = name;
  }

  @Override
  public boolean publish(String bundlePem) {
    String caBundle =
        Base64.getEncoder().encodeToString(bundlePem.getBytes(StandardCharsets.UTF_8));
    for (int attempt = 1; ; attempt++) {
      MutatingWebhookConfiguration configuration =
          client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).get();
      if (configuration == null) {
        throw new IllegalStateException(
            "MutatingWebhookConfiguration " + name + " does not exist; install deploy/webhook");
      }
      boolean changed = false;
      for (MutatingWebhook webhook : configuration.getWebhooks()) {
        if (webhook.getClientConfig() != null
            && !Objects.equals(webhook.getClientConfig().getCaBundle(), caBundle)) {
          webhook.getClientConfig().setCaBundle(caBundle);
          changed = true;
        }
      }
      if (!changed) {
        return false;
      }
      try {
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .resource(configuration)
            .update();
        log.info("caBundle of MutatingWebhookConfiguration {} updated", name);
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= CONFLICT_ATTEMPTS) {
          throw e;
        }
        log.debug(
            "MutatingWebhookConfiguration {} changed while patching caBundle; reading again", name);
      }
    }
  }
}

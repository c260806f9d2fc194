package io.conveyor.operator.reconciler;

import io.conveyor.operator.crd.ConveyorLabels;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.net.HttpURLConnection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the CA's root as ConfigMap {@value #CONFIG_MAP} (key {@value #KEY}) in every namespace
 * with injected pods, where the webhook mounts it into the sidecar. Called on each reconcile of a
 * pod; the ConfigMaps are watched (label {@link ConveyorLabels#MANAGED_SELECTOR}), so a deleted or
 * edited one brings the namespace's pods back here and is put right at once, and an unchanged one
 * costs no request.
 *
 * <p>The names are the webhook's ({@code InjectionKeys.TRUST_BUNDLE_CONFIG_MAP}, {@code
 * TRUST_BUNDLE_KEY}), copied: the operator does not depend on the webhook module.
 */
public final class TrustBundlePublisher {

  /** The ConfigMap the webhook mounts the trust bundle from. */
  public static final String CONFIG_MAP = "conveyor-trust-bundle";

  /** Its key holding the PEM root(s). */
  public static final String KEY = "ca.crt";

  private static final Logger log = LoggerFactory.getLogger(TrustBundlePublisher.class);

  private final String rootPem;
  private final OperatorMetrics metrics;

  public TrustBundlePublisher(String rootPem, OperatorMetrics metrics) {
    this.rootPem = Objects.requireNonNull(rootPem, "rootPem");
    this.metrics = metrics;
  }

  /** What the ConfigMap of {@code namespace} must hold. */
  ConfigMap desired(String namespace) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(CONFIG_MAP)
        .addToLabels(ConveyorLabels.MANAGED_BY_LABEL, ConveyorLabels.MANAGED_BY)
        .endMetadata()
        .withData(Map.of(KEY, rootPem))
        .build();
  }

  boolean current(ConfigMap configMap) {
    Map<String, String> labels = configMap.getMetadata().getLabels();
    return Map.of(KEY, rootPem).equals(configMap.getData())
        && (configMap.getBinaryData() == null || configMap.getBinaryData().isEmpty())
        && labels != null
        && ConveyorLabels.MANAGED_BY.equals(labels.get(ConveyorLabels.MANAGED_BY_LABEL));
  }

  /**
   * Makes the namespace's ConfigMap right. A write that loses a race (409, 404) is left: the watch
   * event of the winner's write brings a new reconcile.
   *
   * @param cache the watched ConfigMaps, updated with this replica's own writes at once
   */
  void publish(KubernetesClient client, String namespace, InformerEventSource<ConfigMap, ?> cache) {
    ResourceID id = new ResourceID(CONFIG_MAP, namespace);
    Optional<ConfigMap> cached = cache.get(id);
    if (cached.isPresent() && current(cached.get())) {
      return;
    }
    try {
      if (cached.isEmpty()) {
        try {
          ConfigMap created = client.resource(desired(namespace)).create();
          metrics.apiWrite("ConfigMap", "create");
          cache.handleRecentResourceCreate(id, created);
          log.info("published the trust bundle in namespace {}", namespace);
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
            throw e;
          }
        }
        // There, but not watched: someone removed our label. Read it to put it right.
        ConfigMap existing = client.configMaps().inNamespace(namespace).withName(CONFIG_MAP).get();
        if (existing == null || current(existing)) {
          return;
        }
        cached = Optional.of(existing);
      }
      ConfigMap fixed =
          new ConfigMapBuilder(cached.get())
              .editMetadata()
              .addToLabels(ConveyorLabels.MANAGED_BY_LABEL, ConveyorLabels.MANAGED_BY)
              .endMetadata()
              .withData(Map.of(KEY, rootPem))
              .withBinaryData(null)
              .build();
      // A replace guarded by the resourceVersion read: never overwrites a change it did not see.
      ConfigMap updated = client.resource(fixed).update();
      metrics.apiWrite("ConfigMap", "update");
      cache.handleRecentResourceUpdate(id, updated, cached.get());
      log.info("put the trust bundle of namespace {} right again (it was edited)", namespace);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        log.debug("trust bundle write in {} skipped ({}); a newer event follows", namespace, e);
        return;
      }
      throw e;
    }
  }
}

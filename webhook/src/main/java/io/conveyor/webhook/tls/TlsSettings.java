package io.conveyor.webhook.tls;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How the webhook's TLS material is made, kept and renewed.
 *
 * @param store where the CA and serving certificate live
 * @param namespace the webhook's namespace (of the Secret and the Service)
 * @param secretName the Secret holding CA and serving certificate, shared by all replicas
 * @param webhookConfigurationName the MutatingWebhookConfiguration whose caBundle is kept in sync
 * @param dnsNames the serving certificate's subject alternative names
 * @param caValidity lifetime of a new CA
 * @param certValidity lifetime of a new serving certificate
 * @param renewBefore the serving certificate is renewed when less than this is left
 * @param checkInterval how often the Secret and the caBundle are checked
 * @param caOutputFile where to write the CA bundle (PEM) whenever it changes, for local runs
 */
public record TlsSettings(
    Store store,
    String namespace,
    String secretName,
    String webhookConfigurationName,
    List<String> dnsNames,
    Duration caValidity,
    Duration certValidity,
    Duration renewBefore,
    Duration checkInterval,
    Optional<Path> caOutputFile) {

  /** Where TLS material is kept. */
  public enum Store {
    /** A Secret in the webhook's namespace; the caBundle is patched into the webhook config. */
    KUBERNETES,
    /** In memory, nothing published: local runs and the benchmark, no API server needed. */
    MEMORY
  }

  public TlsSettings {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(secretName, "secretName");
    Objects.requireNonNull(webhookConfigurationName, "webhookConfigurationName");
    Objects.requireNonNull(caOutputFile, "caOutputFile");
    dnsNames = List.copyOf(dnsNames);
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("the serving certificate needs at least one DNS name");
    }
    if (renewBefore.compareTo(certValidity) >= 0) {
      throw new IllegalArgumentException(
          "renewBefore ("
              + renewBefore
              + ") must be shorter than certValidity ("
              + certValidity
              + ")");
    }
    if (certValidity.compareTo(caValidity) >= 0) {
      throw new IllegalArgumentException(
          "certValidity ("
              + certValidity
              + ") must be shorter than caValidity ("
              + caValidity
              + ")");
    }
  }

  /** The names a Service is reached by inside the cluster, most specific last. */
  public static List<String> serviceDnsNames(
      String service, String namespace, String clusterDomain) {
    return List.of(
        service,
        service + "." + namespace,
        service + "." + namespace + ".svc",
        service + "." + namespace + ".svc." + clusterDomain);
  }
}

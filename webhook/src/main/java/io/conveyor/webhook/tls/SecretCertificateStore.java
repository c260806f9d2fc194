package io.conveyor.webhook.tls;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps the TLS material in a {@code kubernetes.io/tls} Secret of the webhook's namespace, so every
 * replica serves the same certificate and a restart reuses it. Besides {@code tls.crt} and {@code
 * tls.key} it holds {@code ca.crt}, {@code ca.key} and {@code ca-bundle.crt}. Writes carry the
 * {@code resourceVersion} read, so two replicas never overwrite each other.
 */
public final class SecretCertificateStore implements CertificateStore {

  static final String TLS_CRT = "tls.crt";
  static final String TLS_KEY = "tls.key";
  static final String CA_CRT = "ca.crt";
  static final String CA_KEY = "ca.key";
  static final String CA_BUNDLE = "ca-bundle.crt";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;

  public SecretCertificateStore(KubernetesClient client, String namespace, String name) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
  }

  @Override
  public String describe() {
    return "Secret " + namespace + "/" + name;
  }

  @Override
  public Optional<Stored> load() {
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      return Optional.empty();
    }
    String version = secret.getMetadata().getResourceVersion();
    try {
      return Optional.of(Stored.of(version, fromData(secret.getData())));
    } catch (RuntimeException e) {
      return Optional.of(Stored.unreadable(version, e.getMessage()));
    }
  }

  @Override
  public Stored create(TlsMaterial material) throws ConflictException {
    try {
      Secret created =
          client.secrets().inNamespace(namespace).resource(toSecret(material, null)).create();
      return Stored.of(created.getMetadata().getResourceVersion(), material);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        throw new ConflictException(describe() + " was created by another replica", e);
      }
      throw e;
    }
  }

  @Override
  public Stored replace(Stored previous, TlsMaterial material) throws ConflictException {
    try {
      Secret updated =
          client
              .secrets()
              .inNamespace(namespace)
              .resource(toSecret(material, previous.version()))
              .update();
      return Stored.of(updated.getMetadata().getResourceVersion(), material);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        throw new ConflictException(describe() + " changed since it was read", e);
      }
      throw e;
    }
  }

  Secret toSecret(TlsMaterial material, String resourceVersion) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(TLS_CRT, b64(PemCodec.certificateToPem(material.certificate())));
    data.put(TLS_KEY, b64(PemCodec.privateKeyToPem(material.key())));
    data.put(CA_CRT, b64(PemCodec.certificateToPem(material.caCertificate())));
    data.put(CA_KEY, b64(PemCodec.privateKeyToPem(material.caKey())));
    data.put(CA_BUNDLE, b64(material.trustBundlePem()));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withResourceVersion(resourceVersion)
        .addToLabels("app.kubernetes.io/name", "conveyor-webhook")
        .addToLabels("app.kubernetes.io/part-of", "conveyor")
        .addToLabels("app.kubernetes.io/managed-by", "conveyor-webhook")
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(data)
        .build();
  }

  static TlsMaterial fromData(Map<String, String> data) {
    if (data == null) {
      throw new IllegalArgumentException("the Secret has no data");
    }
    var caCertificate = PemCodec.parseCertificate(text(data, CA_CRT));
    List<X509Certificate> bundle =
        data.containsKey(CA_BUNDLE)
            ? PemCodec.parseCertificates(text(data, CA_BUNDLE))
            : new ArrayList<>(List.of(caCertificate));
    return new TlsMaterial(
        caCertificate,
        PemCodec.parsePrivateKey(text(data, CA_KEY)),
        PemCodec.parseCertificate(text(data, TLS_CRT)),
        PemCodec.parsePrivateKey(text(data, TLS_KEY)),
        bundle);
  }

  private static String text(Map<String, String> data, String key) {
    String value = data.get(key);
    if (value == null) {
      throw new IllegalArgumentException("the Secret has no " + key);
    }
    try {
      return new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + " is not base64", e);
    }
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}

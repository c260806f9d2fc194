package io.conveyor.operator.identity;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.operator.crd.ConveyorLabels;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Conveyor CA's key and root, kept in Secret {@value #NAME} of the operator's namespace so that
 * every leader issues under one root. A leader loads it, or creates it when there is none; two
 * leaders racing to create it both end up with the one that was stored first (the loser's create
 * answers 409 and it reads the winner's).
 *
 * <p>A Secret that exists but does not hold a usable CA is never replaced: certificates issued
 * under it would stop verifying everywhere. {@link #loadOrCreate} fails instead, naming the fault,
 * and the leader term does not start (the replica stays not ready until someone repairs or deletes
 * the Secret).
 */
public final class CaSecret {

  /** Name of the Secret, in the operator's namespace. */
  public static final String NAME = "conveyor-ca";

  /** Key of the PEM root in the Secret (and of the trust bundle in its ConfigMap). */
  public static final String ROOT_KEY = "ca.crt";

  /** Key of the PEM (PKCS#8) private key in the Secret. */
  public static final String KEY_KEY = "ca.key";

  private static final Logger log = LoggerFactory.getLogger(CaSecret.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String trustDomain;
  private final Clock clock;
  private final SecureRandom random;

  public CaSecret(
      KubernetesClient client,
      String namespace,
      String trustDomain,
      Clock clock,
      SecureRandom random) {
    this.client = client;
    this.namespace = namespace;
    this.trustDomain = trustDomain;
    this.clock = clock;
    this.random = random;
  }

  /**
   * The stored CA, or a new one stored now.
   *
   * @throws MalformedCaSecretException when the Secret exists and holds no usable CA
   * @throws KubernetesClientException when the API server does not answer (the term fails and is
   *     retried with backoff)
   */
  public CertificateAuthority loadOrCreate() {
    Secret stored = get();
    if (stored != null) {
      CertificateAuthority ca = read(stored);
      log.info("loaded the CA from Secret {}/{}: root {}", namespace, NAME, subject(ca));
      return ca;
    }
    CertificateAuthority created = CertificateAuthority.create(trustDomain, clock, random);
    try {
      client.resource(secretOf(created)).create();
      log.info("created the CA in Secret {}/{}: root {}", namespace, NAME, subject(created));
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
    // Another leader stored its CA between our read and our create: issue under that one.
    Secret winner = get();
    if (winner == null) {
      throw new IllegalStateException(
          "Secret " + namespace + "/" + NAME + " was created by someone else and is gone again");
    }
    CertificateAuthority ca = read(winner);
    log.info(
        "Secret {}/{} was created concurrently; using its CA: root {}",
        namespace,
        NAME,
        subject(ca));
    return ca;
  }

  private Secret get() {
    return client.secrets().inNamespace(namespace).withName(NAME).get();
  }

  private CertificateAuthority read(Secret secret) {
    Map<String, String> data = secret.getData();
    String root = decoded(data, ROOT_KEY);
    String key = decoded(data, KEY_KEY);
    try {
      return CertificateAuthority.fromPem(root, key, clock, random);
    } catch (IllegalArgumentException e) {
      throw malformed(e.getMessage(), e);
    }
  }

  private String decoded(Map<String, String> data, String key) {
    String value = data == null ? null : data.get(key);
    if (value == null || value.isEmpty()) {
      throw malformed("it has no " + key, null);
    }
    try {
      return new String(Base64.getDecoder().decode(value), StandardCharsets.US_ASCII);
    } catch (IllegalArgumentException e) {
      throw malformed(key + " is not base64", e);
    }
  }

  private MalformedCaSecretException malformed(String fault, Throwable cause) {
    return new MalformedCaSecretException(
        "Secret "
            + namespace
            + "/"
            + NAME
            + " does not hold a usable CA ("
            + fault
            + "); it is not replaced, since certificates issued under it would stop verifying:"
            + " repair it, or delete it to have a new root created",
        cause);
  }

  private Secret secretOf(CertificateAuthority ca) {
    Base64.Encoder base64 = Base64.getEncoder();
    return new SecretBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(NAME)
        .addToLabels(ConveyorLabels.MANAGED_BY_LABEL, ConveyorLabels.MANAGED_BY)
        .endMetadata()
        .withType("Opaque")
        .addToData(
            ROOT_KEY, base64.encodeToString(ca.rootPem().getBytes(StandardCharsets.US_ASCII)))
        .addToData(KEY_KEY, base64.encodeToString(ca.keyPem().getBytes(StandardCharsets.US_ASCII)))
        .build();
  }

  private static String subject(CertificateAuthority ca) {
    return ca.root().getSubjectX500Principal().getName();
  }

  /** The CA Secret exists and holds no usable CA; it is left as it is. */
  public static final class MalformedCaSecretException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    MalformedCaSecretException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}

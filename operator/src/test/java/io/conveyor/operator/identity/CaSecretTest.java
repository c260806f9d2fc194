package io.conveyor.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.operator.testing.MockCluster;
import io.conveyor.operator.testing.RbacAudit;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The CA's Secret on the CRUD mock server: created once, loaded by every later leader. */
class CaSecretTest {

  private static final String NS = "conveyor-system";
  private static final String PATH = "/api/v1/namespaces/" + NS + "/secrets/" + CaSecret.NAME;

  private final MockCluster cluster = new MockCluster();
  private final KubernetesClient client = cluster.client();
  private final KubernetesClient operatorClient = cluster.newOperatorClient();
  private final MutableClock clock = MutableClock.startingNow();

  @AfterEach
  void tearDown() {
    try {
      RbacAudit.check(cluster.drainRequests());
    } finally {
      cluster.close();
    }
  }

  @Test
  void theFirstLeaderCreatesTheSecretAndTheNextLoadsTheSameRoot() throws Exception {
    CertificateAuthority first = store().loadOrCreate();

    Secret secret = client.secrets().inNamespace(NS).withName(CaSecret.NAME).get();
    assertThat(secret.getType()).isEqualTo("Opaque");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "conveyor-operator");
    assertThat(secret.getData()).containsOnlyKeys("ca.crt", "ca.key");
    assertThat(rootIn(secret)).isEqualTo(first.root());

    CertificateAuthority second = store().loadOrCreate();
    assertThat(second.root()).isEqualTo(first.root());
    assertThat(second.keyPem()).isEqualTo(first.keyPem());
  }

  @Test
  void aLeaderThatLosesTheRaceToCreateUsesTheWinnersCa() {
    // Another leader stores its CA after this one found no Secret: the read answers 404 once.
    CertificateAuthority winner =
        CertificateAuthority.create(
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, new SecureRandom());
    client.resource(secretOf(winner.rootPem(), winner.keyPem())).create();
    cluster
        .server()
        .expect()
        .get()
        .withPath(PATH)
        .andReturn(404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}")
        .once();

    CertificateAuthority loser = store().loadOrCreate();

    assertThat(loser.root()).isEqualTo(winner.root());
    assertThat(client.secrets().inNamespace(NS).withName(CaSecret.NAME).get().getData())
        .containsEntry("ca.crt", base64(winner.rootPem()));
  }

  @Test
  void aMalformedSecretIsAClearErrorAndIsNeverReplaced() {
    CertificateAuthority a =
        CertificateAuthority.create(
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, new SecureRandom());
    CertificateAuthority b =
        CertificateAuthority.create(
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, new SecureRandom());
    Secret mismatched = client.resource(secretOf(a.rootPem(), b.keyPem())).create();

    assertThatThrownBy(() -> store().loadOrCreate())
        .isInstanceOf(CaSecret.MalformedCaSecretException.class)
        .hasMessageContaining("Secret conveyor-system/conveyor-ca does not hold a usable CA")
        .hasMessageContaining("the CA key does not belong to the root certificate")
        .hasMessageContaining("it is not replaced");
    assertThat(client.secrets().inNamespace(NS).withName(CaSecret.NAME).get().getData())
        .isEqualTo(mismatched.getData());

    client.secrets().inNamespace(NS).withName(CaSecret.NAME).delete();
    Secret keyless = secretOf(a.rootPem(), a.keyPem());
    keyless.getData().remove("ca.key");
    client.resource(keyless).create();
    assertThatThrownBy(() -> store().loadOrCreate())
        .isInstanceOf(CaSecret.MalformedCaSecretException.class)
        .hasMessageContaining("it has no ca.key");
  }

  private CaSecret store() {
    return new CaSecret(
        operatorClient, NS, WorkloadIdentity.DEFAULT_TRUST_DOMAIN, clock, new SecureRandom());
  }

  private static Secret secretOf(String rootPem, String keyPem) {
    return new SecretBuilder()
        .withNewMetadata()
        .withNamespace(NS)
        .withName(CaSecret.NAME)
        .endMetadata()
        .addToData("ca.crt", base64(rootPem))
        .addToData("ca.key", base64(keyPem))
        .build();
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  static X509Certificate rootIn(Secret secret) throws Exception {
    byte[] pem = Base64.getDecoder().decode(secret.getData().get("ca.crt"));
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
  }
}

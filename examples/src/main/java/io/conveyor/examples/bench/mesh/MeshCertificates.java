package io.conveyor.examples.bench.mesh;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateChain;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrRejectedException;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * Workload certificates for the mesh's proxies, issued by the same Conveyor CA classes (and, in the
 * benchmark, the same root) the sidecars enrol with, written as the PEM files HAProxy reads.
 */
public final class MeshCertificates {

  private static final Base64.Encoder PEM_BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private final CertificateAuthority ca;
  private final Path folder;
  private final SecureRandom random;

  public MeshCertificates(CertificateAuthority ca, Path folder, SecureRandom random) {
    this.ca = ca;
    this.folder = folder;
    this.random = random;
  }

  /**
   * Issues a certificate for {@code pod}'s proxy (identity {@code default/<pod>/default}) through a
   * CSR, as a sidecar gets its own, and writes {@code ca.pem} and {@code <pod>-proxy.pem}.
   */
  public MeshTlsFiles issue(String pod) throws IOException {
    WorkloadIdentity identity = WorkloadIdentity.of("default", pod, "default");
    KeyPair keys = CertificateRequests.newKeyPair(random);
    CertificateChain chain;
    try {
      chain =
          ca.issue(
              new CsrValidator().validate(CertificateRequests.csrFor(identity, keys), identity));
    } catch (CsrRejectedException e) {
      // Our own request for our own identity: a rejection is a defect here, not an input error.
      throw new IllegalStateException("the CA refused the proxy's own CSR for " + identity, e);
    }
    Files.createDirectories(folder);
    Path caFile = folder.resolve("ca.pem");
    Files.writeString(caFile, ca.rootPem(), StandardCharsets.US_ASCII);
    Path identityFile = folder.resolve(pod + "-proxy.pem");
    Files.deleteIfExists(identityFile);
    // The key is in this file: readable by its owner only, from before the first byte.
    Files.createFile(
        identityFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    String pem =
        pem("CERTIFICATE", encoded(chain.leaf()))
            + pem("CERTIFICATE", encoded(chain.root()))
            + pem("PRIVATE KEY", keys.getPrivate().getEncoded()); // PKCS#8
    Files.writeString(identityFile, pem, StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
    return new MeshTlsFiles(caFile, identityFile);
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode a certificate the CA just issued", e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + PEM_BASE64.encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}

package io.conveyor.operator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/**
 * The two files an injected pod's sidecar is given for mutual TLS, as the kubelet mounts them: the
 * projected ServiceAccount token (audience {@code conveyor.etl}) and the trust bundle from the
 * published ConfigMap.
 *
 * <p>The token is shaped like the kubelet's (three base64url parts, the API server's claims): the
 * sidecar reads its {@code sub} to name its service account in the CSR. Its signature is random, as
 * nothing but the API server verifies it, and the API server here is {@link TokenReviews}, which
 * answers for the token string it was told about.
 */
public record PodCredentials(Path tokenFile, Path trustBundleFile) {

  private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Writes {@code token} and {@code trustBundlePem} to files of their own in {@code dir}. */
  public static PodCredentials write(Path dir, String token, String trustBundlePem) {
    try {
      Path folder = Files.createTempDirectory(dir, "pod-");
      Path tokenFile = Files.writeString(folder.resolve("token"), token, StandardCharsets.UTF_8);
      Path bundleFile =
          Files.writeString(folder.resolve("ca.crt"), trustBundlePem, StandardCharsets.US_ASCII);
      return new PodCredentials(tokenFile, bundleFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the pod's credentials in " + dir, e);
    }
  }

  /**
   * A projected token for service account {@code namespace}/{@code account} bound to pod {@code
   * pod} (UID {@code podUid}), valid for ten minutes from now.
   */
  public static String projectedToken(String namespace, String account, String pod, String podUid) {
    long now = Instant.now().getEpochSecond();
    String header = "{\"alg\":\"RS256\",\"kid\":\"test-signing-key\"}";
    String payload =
        """
        {"aud":["conveyor.etl"],"exp":%d,"iat":%d,"iss":"https://kubernetes.default.svc",\
        "jti":"%s","kubernetes.io":{"namespace":"%s","node":{"name":"node-1","uid":"%s"},\
        "pod":{"name":"%s","uid":"%s"},"serviceaccount":{"name":"%s","uid":"%s"}},\
        "nbf":%d,"sub":"system:serviceaccount:%s:%s"}"""
            .formatted(
                now + 600,
                now,
                UUID.randomUUID(),
                namespace,
                UUID.randomUUID(),
                pod,
                podUid,
                account,
                UUID.randomUUID(),
                now,
                namespace,
                account);
    byte[] signature = new byte[256];
    RANDOM.nextBytes(signature);
    return URL.encodeToString(header.getBytes(StandardCharsets.UTF_8))
        + "."
        + URL.encodeToString(payload.getBytes(StandardCharsets.UTF_8))
        + "."
        + URL.encodeToString(signature);
  }

  /** The sidecar's security with these files. */
  public SidecarPod.Security security() {
    return SidecarPod.Security.mutualTls(tokenFile, trustBundleFile);
  }
}

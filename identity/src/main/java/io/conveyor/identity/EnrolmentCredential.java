package io.conveyor.identity;

/**
 * What a sidecar presents, next to its CSR, to be issued a certificate: exactly one of these. Its
 * {@code toString} never prints the secret.
 */
public sealed interface EnrolmentCredential {

  /**
   * The pod's projected ServiceAccount token (audience {@code conveyor.etl}): in a cluster, checked
   * by the operator with a TokenReview; it proves namespace, service account, pod name and UID.
   */
  record ServiceAccountToken(String jwt) implements EnrolmentCredential {
    @Override
    public String toString() {
      return "ServiceAccountToken[" + jwt.length() + " chars]";
    }
  }

  /**
   * The standalone router's bootstrap token, given to it and to its sidecars out of band: it proves
   * only that the caller was given the token, not which pod it is.
   */
  record BootstrapToken(String secret) implements EnrolmentCredential {
    @Override
    public String toString() {
      return "BootstrapToken[" + secret.length() + " chars]";
    }
  }
}

package io.conveyor.operator.identity;

import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentRefusedException.Kind;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import java.util.List;
import java.util.Map;

/**
 * What the API server's answer to a TokenReview proves about a sidecar's token: the ServiceAccount
 * it was issued to and the pod it is bound to. Reading the answer is pure; {@link
 * TokenReviewVerifier} asks the question and checks the pod.
 *
 * <p>Everything that makes the answer prove less than a bound pod is UNAUTHENTICATED: the token is
 * then not a credential this CA takes, whatever else it may be good for (a user's token, a legacy
 * ServiceAccount token that names no pod, one for the API server's own audience).
 *
 * @param podUid the UID of the pod the token was issued for, which a pod re-created under the same
 *     name does not have
 */
public record BoundPodToken(
    String namespace, String serviceAccount, String podName, String podUid) {

  /** {@code user.username} of every ServiceAccount token: {@code system:serviceaccount:NS:SA}. */
  static final String SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:";

  /** {@code user.extra} key of a bound token's pod name (Kubernetes 1.22 and later). */
  public static final String POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";

  /** {@code user.extra} key of a bound token's pod UID. */
  public static final String POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid";

  /**
   * Reads a TokenReview's status.
   *
   * @param audience the audience the review asked for; the status must name it, which also proves
   *     the API server checked audiences at all (an empty {@code status.audiences} means the token
   *     is good only for the API server itself)
   * @throws EnrolmentRefusedException UNAUTHENTICATED, saying what the token lacks
   */
  public static BoundPodToken fromReview(TokenReviewStatus status, String audience)
      throws EnrolmentRefusedException {
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      throw refused("the API server did not authenticate the ServiceAccount token");
    }
    List<String> audiences = status.getAudiences();
    if (audiences == null || !audiences.contains(audience)) {
      throw refused("the ServiceAccount token is not for audience \"" + audience + "\"");
    }
    UserInfo user = status.getUser();
    String username = user == null ? null : user.getUsername();
    if (username == null || !username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) {
      throw refused("the token is not a ServiceAccount token");
    }
    String[] namespaceAndAccount =
        username.substring(SERVICE_ACCOUNT_USER_PREFIX.length()).split(":", -1);
    if (namespaceAndAccount.length != 2
        || namespaceAndAccount[0].isEmpty()
        || namespaceAndAccount[1].isEmpty()) {
      throw refused("the token is not a ServiceAccount token");
    }
    Map<String, List<String>> extra = user.getExtra();
    String podName = single(extra, POD_NAME_EXTRA);
    String podUid = single(extra, POD_UID_EXTRA);
    if (podName == null || podUid == null) {
      throw refused(
          "the ServiceAccount token is not bound to a pod (mount a projected token, audience \""
              + audience
              + "\")");
    }
    return new BoundPodToken(namespaceAndAccount[0], namespaceAndAccount[1], podName, podUid);
  }

  /** The one non-empty value of an extra, or null if there is none or more than one. */
  private static String single(Map<String, List<String>> extra, String key) {
    List<String> values = extra == null ? null : extra.get(key);
    if (values == null || values.size() != 1 || values.get(0) == null || values.get(0).isEmpty()) {
      return null;
    }
    return values.get(0);
  }

  private static EnrolmentRefusedException refused(String message) {
    return new EnrolmentRefusedException(Kind.UNAUTHENTICATED, message);
  }
}

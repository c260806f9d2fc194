package io.conveyor.operator.testing;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A fake authenticator behind the mock API server's {@code tokenreviews}: a TokenReview is not
 * stored, so the CRUD server cannot answer it. It answers the way the API server does: 201 with the
 * request's spec echoed and the status registered for the token; an unknown token does not
 * authenticate.
 */
public final class TokenReviews implements ResponseProvider<Object> {

  public static final String PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

  /** What the API server answers for a token it cannot authenticate. */
  public static final String NOT_AUTHENTICATED =
      "{\"user\":{},\"error\":\"[invalid bearer token, square/go-jose: error in cryptographic"
          + " primitive, token lookup failed]\"}";

  private final Map<String, String> statusByToken = new ConcurrentHashMap<>();
  private volatile boolean down;
  private Headers headers = new Headers.Builder().build();

  /** Answers every TokenReview created on {@code server} from now on. */
  public static TokenReviews installOn(KubernetesMockServer server) {
    TokenReviews reviews = new TokenReviews();
    server.expect().post().withPath(PATH).andReply(reviews).always();
    return reviews;
  }

  /** The review of {@code token} answers with {@code statusJson}. */
  public TokenReviews answer(String token, String statusJson) {
    statusByToken.put(token, statusJson);
    return this;
  }

  /** While true, every review is answered 503, as by an API server that cannot reach etcd. */
  public void down(boolean down) {
    this.down = down;
  }

  public static String boundToken(String namespace, String account, String pod, String podUid) {
    return boundToken(namespace, account, pod, podUid, List.of("conveyor.etl"));
  }

  /** A TokenReview status as the API server writes it for a projected, pod-bound token. */
  public static String boundToken(
      String namespace, String account, String pod, String podUid, List<String> audiences) {
    return """
        {"authenticated":true,
         "user":{"username":"system:serviceaccount:%s:%s",
                 "uid":"%s",
                 "groups":["system:serviceaccounts","system:serviceaccounts:%s",
                           "system:authenticated"],
                 "extra":{"authentication.kubernetes.io/credential-id":["JTI=%s"],
                          "authentication.kubernetes.io/node-name":["node-1"],
                          "authentication.kubernetes.io/node-uid":["%s"],
                          "authentication.kubernetes.io/pod-name":["%s"],
                          "authentication.kubernetes.io/pod-uid":["%s"]}},
         "audiences":%s}
        """
        .formatted(
            namespace,
            account,
            UUID.nameUUIDFromBytes((namespace + ":" + account).getBytes(StandardCharsets.UTF_8)),
            namespace,
            UUID.randomUUID(),
            UUID.nameUUIDFromBytes("node-1".getBytes(StandardCharsets.UTF_8)),
            pod,
            podUid,
            Serialization.asJson(audiences));
  }

  /** The request's body, read without consuming it. */
  public static String body(RecordedRequest request) {
    return new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
  }

  @Override
  public int getStatusCode(RecordedRequest request) {
    return down ? 503 : 201;
  }

  @Override
  public Object getBody(RecordedRequest request) {
    if (down) {
      return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
          + "\"message\":\"the server is currently unable to handle the request\","
          + "\"reason\":\"ServiceUnavailable\",\"code\":503}";
    }
    TokenReview review = Serialization.unmarshal(body(request), TokenReview.class);
    String status = statusByToken.getOrDefault(review.getSpec().getToken(), NOT_AUTHENTICATED);
    return "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
        + "\"metadata\":{\"creationTimestamp\":null},\"spec\":"
        + Serialization.asJson(review.getSpec())
        + ",\"status\":"
        + status
        + "}";
  }

  @Override
  public Headers getHeaders() {
    return headers;
  }

  @Override
  public void setHeaders(Headers headers) {
    this.headers = headers;
  }
}

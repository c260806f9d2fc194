package io.conveyor.podtest.cluster;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The API server of the pods tier's scenarios: fabric8's CRUD mock server with the project's CRDs
 * (crds/) installed, plus the one answer a CRUD store cannot give, TokenReview. The runner writes
 * each pod a fake projected token (not a signed JWT); {@link #bindToken} registers the review the
 * API server would give for it: authenticated, bound to that pod's name and uid, audience
 * conveyor.etl. An unregistered token does not authenticate. Everything the operator checks beyond
 * the review (the pod exists, same uid, its service account, the injected label) it checks against
 * the pods stored here.
 */
public final class MockApiServer implements AutoCloseable {

  /** The mock server logs every request at INFO through java.util.logging; held so it stays set. */
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
  }

  private final KubernetesMockServer server;
  private final NamespacedKubernetesClient client;
  private final Reviews reviews = new Reviews();

  public MockApiServer(Path crds) {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init();
    server
        .expect()
        .post()
        .withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(reviews)
        .always();
    client = server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory()));
    try (Stream<Path> files = Files.list(crds)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          client.load(in).create();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the CRDs from " + crds, e);
    }
  }

  public NamespacedKubernetesClient client() {
    return client;
  }

  /** The review of {@code token} proves the pod-bound identity, as for a projected token. */
  public void bindToken(
      String token, String namespace, String serviceAccount, String pod, String podUid) {
    reviews.statusByToken.put(
        token,
        """
        {"authenticated":true,
         "user":{"username":"system:serviceaccount:%s:%s",
                 "uid":"%s",
                 "groups":["system:serviceaccounts","system:serviceaccounts:%s",
                           "system:authenticated"],
                 "extra":{"authentication.kubernetes.io/pod-name":["%s"],
                          "authentication.kubernetes.io/pod-uid":["%s"]}},
         "audiences":["conveyor.etl"]}
        """
            .formatted(
                namespace,
                serviceAccount,
                UUID.nameUUIDFromBytes(
                    (namespace + ":" + serviceAccount).getBytes(StandardCharsets.UTF_8)),
                namespace,
                pod,
                podUid));
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }

  /** Answers a TokenReview as the API server does: 201, the spec echoed, the token's status. */
  private static final class Reviews implements ResponseProvider<Object> {

    private static final String NOT_AUTHENTICATED =
        "{\"user\":{},\"error\":\"[invalid bearer token, token lookup failed]\"}";

    private final Map<String, String> statusByToken = new ConcurrentHashMap<>();
    private Headers headers = new Headers.Builder().build();

    @Override
    public int getStatusCode(RecordedRequest request) {
      return 201;
    }

    @Override
    public Object getBody(RecordedRequest request) {
      TokenReview review =
          Serialization.unmarshal(
              new String(request.getBody().getBytes(), StandardCharsets.UTF_8), TokenReview.class);
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
}

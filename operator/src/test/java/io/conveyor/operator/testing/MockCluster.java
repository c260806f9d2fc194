package io.conveyor.operator.testing;

import io.conveyor.operator.KubernetesClients;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * A fabric8 CRUD mock API server with the CRDs of {@code crds/} installed. The test talks to it
 * through {@link #client()}; each operator gets its own client from {@link #newOperatorClient()},
 * which identifies itself as the operator, so that {@link RbacAudit} can tell its requests from the
 * test's.
 */
public final class MockCluster implements AutoCloseable {

  private final KubernetesMockServer server;
  private final NamespacedKubernetesClient client;
  private final List<KubernetesClient> operatorClients = new ArrayList<>();

  /** The mock server logs every request at INFO through java.util.logging; held so it stays set. */
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
  }

  public MockCluster() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init();
    client = server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory()));
    installCrds();
  }

  public KubernetesClient client() {
    return client;
  }

  /** The server itself, for answers the CRUD store cannot give (TokenReviews). */
  public KubernetesMockServer server() {
    return server;
  }

  /** A client configured the way the operator configures its own, pointing at this server. */
  public synchronized KubernetesClient newOperatorClient() {
    KubernetesClient operatorClient = KubernetesClients.create(client.getConfiguration());
    operatorClients.add(operatorClient);
    return operatorClient;
  }

  /** Every request the server received since the last call, oldest first. */
  public List<RecordedRequest> drainRequests() {
    List<RecordedRequest> requests = new ArrayList<>();
    try {
      RecordedRequest request;
      while ((request = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
        requests.add(request);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return requests;
  }

  private void installCrds() {
    Path crds = Path.of(System.getProperty("crds.checkedIn", "../crds"));
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

  @Override
  public void close() {
    operatorClients.forEach(KubernetesClient::close);
    client.close();
    server.destroy();
  }
}

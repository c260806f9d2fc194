package io.conveyor.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;

/** The operator's Kubernetes client. */
public final class KubernetesClients {

  /** What the operator calls itself in requests; it shows in the API server's audit log. */
  public static final String USER_AGENT = "conveyor-operator";

  private KubernetesClients() {}

  /**
   * The requests of an enrolment wait on the API server while a sidecar waits on the CA: the
   * default client would retry a 503 ten times with exponential backoff (about 21 s seen), holding
   * one of the CA's few issuance permits all that time. This one does not retry and gives up after
   * {@link #ENROLMENT_REQUEST_TIMEOUT_MILLIS}: the sidecar gets UNAVAILABLE at once and retries
   * with its own backoff.
   */
  public static final int ENROLMENT_REQUEST_TIMEOUT_MILLIS = 5_000;

  /**
   * A client for the enrolment checks (TokenReview, get Pod), sharing {@code operatorClient}'s HTTP
   * client and configuration, without retries and with a request timeout of {@link
   * #ENROLMENT_REQUEST_TIMEOUT_MILLIS}. It needs no closing of its own.
   */
  public static KubernetesClient forEnrolment(KubernetesClient operatorClient) {
    RequestConfig bounded =
        new RequestConfigBuilder(operatorClient.getConfiguration().getRequestConfig())
            .withRequestRetryBackoffLimit(0)
            .withRequestTimeout(ENROLMENT_REQUEST_TIMEOUT_MILLIS)
            .build();
    return operatorClient.newClient(bounded).adapt(KubernetesClient.class);
  }

  /**
   * A client from {@code base} (in-cluster or kubeconfig configuration in production, the mock
   * server's in tests) that names itself {@link #USER_AGENT}.
   */
  public static KubernetesClient create(Config base) {
    Config config = new ConfigBuilder(base).withUserAgent(USER_AGENT).build();
    // Explicitly the JDK client (the one the operator framework ships with): with more than one
    // HTTP client factory on the classpath fabric8 would otherwise pick one at random.
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }
}

package io.conveyor.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;

/** The operator's Kubernetes client. */
public final class KubernetesClients {

  /** What the operator calls itself in requests; it shows in the API server's audit log. */
  public static final String USER_AGENT = "conveyor-operator";

  private KubernetesClients() {}

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

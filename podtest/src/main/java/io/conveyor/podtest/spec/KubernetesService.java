package io.conveyor.podtest.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the pods' API server is: the {@code kubernetes} Service of a cluster. A kubelet gives every
 * container its address in the environment, in the Service-link shape, whatever the pod's {@code
 * enableServiceLinks}; in-cluster clients (fabric8, client-go) find the API server by {@code
 * KUBERNETES_SERVICE_HOST} and {@code KUBERNETES_SERVICE_PORT}.
 */
public record KubernetesService(String host, int port) {

  /** The variables, in the order a kubelet sets them; a container's own declarations win. */
  public Map<String, String> env() {
    String tcp = "tcp://" + host + ":" + port;
    String prefix = "KUBERNETES_PORT_" + port + "_TCP";
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KUBERNETES_SERVICE_HOST", host);
    env.put("KUBERNETES_SERVICE_PORT", Integer.toString(port));
    env.put("KUBERNETES_SERVICE_PORT_HTTPS", Integer.toString(port));
    env.put("KUBERNETES_PORT", tcp);
    env.put(prefix, tcp);
    env.put(prefix + "_PROTO", "tcp");
    env.put(prefix + "_PORT", Integer.toString(port));
    env.put(prefix + "_ADDR", host);
    return env;
  }
}

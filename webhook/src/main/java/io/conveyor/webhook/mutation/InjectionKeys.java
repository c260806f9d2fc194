package io.conveyor.webhook.mutation;

import java.util.List;
import java.util.Set;

/**
 * The annotation and label keys of the injection contract, shared with the operator, the sidecar
 * and the manifests in {@code deploy/webhook}. Changing one of these is a breaking change.
 */
public final class InjectionKeys {

  /** Pod annotation opting a pod in ({@code "true"}) or out ({@code "false"}). */
  public static final String INJECT = "conveyor.etl/inject";

  /**
   * Namespace label: {@code enabled} opts every pod in, {@code disabled} keeps the webhook away.
   */
  public static final String NAMESPACE_INJECTION = "conveyor.etl/injection";

  /** Label added to every injected pod; the operator selects pods on it. */
  public static final String INJECTED_LABEL = "conveyor.etl/injected";

  /** Annotation recording what was injected (JSON: version, container, mode, image). */
  public static final String STATUS = "conveyor.etl/status";

  public static final String SIDECAR_MODE = "conveyor.etl/sidecar-mode";

  /**
   * The sidecar's JIT profile: {@code compact} or {@code throughput} (see {@code SidecarProfile}).
   */
  public static final String SIDECAR_PROFILE = "conveyor.etl/sidecar-profile";

  public static final String CLUSTER_ENDPOINT = "conveyor.etl/cluster-endpoint";
  public static final String DISCOVERY_PORTS = "conveyor.etl/discovery-ports";
  public static final String CPU_REQUEST = "conveyor.etl/sidecar-cpu-request";
  public static final String CPU_LIMIT = "conveyor.etl/sidecar-cpu-limit";
  public static final String MEMORY_REQUEST = "conveyor.etl/sidecar-memory-request";
  public static final String MEMORY_LIMIT = "conveyor.etl/sidecar-memory-limit";
  public static final String GRPC_PORT = "conveyor.etl/grpc-port";
  public static final String METRICS_PORT = "conveyor.etl/metrics-port";
  public static final String PEER_PORT = "conveyor.etl/peer-port";

  /** The name of the injected container; its presence is what makes injection idempotent. */
  public static final String SIDECAR_CONTAINER = "conveyor-sidecar";

  /** The emptyDir mounted at {@code /tmp} in the sidecar, whose root filesystem is read-only. */
  public static final String SIDECAR_TMP_VOLUME = "conveyor-sidecar-tmp";

  /** The projected volume holding the pod's {@code conveyor.etl} token, for the sidecar only. */
  public static final String TOKEN_VOLUME = "conveyor-token";

  /** The volume of the trust bundle ConfigMap, for the sidecar only. */
  public static final String TRUST_BUNDLE_VOLUME = "conveyor-trust-bundle";

  /** The ConfigMap the operator publishes the trust bundle in, in every namespace it serves. */
  public static final String TRUST_BUNDLE_CONFIG_MAP = "conveyor-trust-bundle";

  /** The key of that ConfigMap holding the PEM CA certificates. */
  public static final String TRUST_BUNDLE_KEY = "ca.crt";

  /**
   * The empty volume mounted over the default API token path in the sidecar, so that the API server
   * does not mount the pod's default ServiceAccount token there.
   */
  public static final String NO_API_TOKEN_VOLUME = "conveyor-no-api-token";

  /** Every volume the injection adds, in the order it adds them. */
  public static final List<String> VOLUMES =
      List.of(SIDECAR_TMP_VOLUME, TOKEN_VOLUME, TRUST_BUNDLE_VOLUME, NO_API_TOKEN_VOLUME);

  /** Namespaces that never get a sidecar, whatever their pods or labels say. */
  public static final Set<String> SYSTEM_NAMESPACES =
      Set.of("kube-system", "kube-public", "kube-node-lease");

  private InjectionKeys() {}
}

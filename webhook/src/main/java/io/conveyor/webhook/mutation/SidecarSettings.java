package io.conveyor.webhook.mutation;

import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarProfile;
import java.util.Objects;
import java.util.Set;

/**
 * The injector's defaults for every sidecar, from configuration; annotations override some of them
 * per pod (see {@link SidecarSpecResolver}).
 *
 * @param image the sidecar image
 * @param imagePullPolicy {@code Always}, {@code IfNotPresent} or {@code Never}
 * @param mode native sidecar or regular container
 * @param profile the sidecar's JIT profile
 * @param clusterEndpoint the router address given to the sidecar as {@code CLUSTER_ENDPOINT}
 * @param routerServiceAccount {@code namespace/name} of the service account the router's
 *     certificate must name, given to the sidecar as {@code ROUTER_SERVICE_ACCOUNT}: the
 *     operator's, wherever the installation put it
 * @param grpcPort the sidecar's local gRPC port, loopback only ({@code GRPC_PORT}, container port
 *     {@code grpc})
 * @param peerPort the port other sidecars reach the sidecar on ({@code PEER_PORT}, container port
 *     {@code peer})
 * @param metricsPort the sidecar's admin HTTP port ({@code METRICS_PORT}, container port {@code
 *     metrics})
 * @param resources requests and limits
 * @param runAsUser the UID (and GID) the sidecar runs as
 * @param injectorVersion recorded in the status annotation
 * @param excludedNamespaces namespaces never injected: the system ones and the webhook's own
 */
public record SidecarSettings(
    String image,
    String imagePullPolicy,
    SidecarMode mode,
    SidecarProfile profile,
    HostPort clusterEndpoint,
    String routerServiceAccount,
    int grpcPort,
    int peerPort,
    int metricsPort,
    SidecarResources resources,
    long runAsUser,
    String injectorVersion,
    Set<String> excludedNamespaces) {

  public SidecarSettings {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(imagePullPolicy, "imagePullPolicy");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(clusterEndpoint, "clusterEndpoint");
    Objects.requireNonNull(routerServiceAccount, "routerServiceAccount");
    Objects.requireNonNull(resources, "resources");
    Objects.requireNonNull(injectorVersion, "injectorVersion");
    excludedNamespaces = Set.copyOf(excludedNamespaces);
    if (grpcPort == peerPort || grpcPort == metricsPort || peerPort == metricsPort) {
      throw new IllegalArgumentException(
          "the sidecar's gRPC, peer and metrics ports must differ, were "
              + grpcPort
              + ", "
              + peerPort
              + " and "
              + metricsPort);
    }
  }
}

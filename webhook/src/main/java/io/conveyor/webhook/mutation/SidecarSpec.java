package io.conveyor.webhook.mutation;

import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarProfile;
import java.util.Optional;

/** The sidecar one pod gets: the injector's settings with the pod's annotations applied. */
public record SidecarSpec(
    String image,
    String imagePullPolicy,
    SidecarMode mode,
    SidecarProfile profile,
    HostPort clusterEndpoint,
    String routerServiceAccount,
    int grpcPort,
    int peerPort,
    int metricsPort,
    Optional<PortRange> discoveryPorts,
    SidecarResources resources,
    long runAsUser) {}

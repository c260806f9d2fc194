package io.conveyor.webhook.mutation;

import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.contract.SidecarProfile;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the sidecar container from a {@link SidecarSpec}: the sidecar's environment contract
 * (downward API for pod identity — a pod made by a controller has no name yet at admission), its
 * ports, HTTP probes on its admin port, a hardened security context and the mounts of {@link
 * SidecarCredentialVolumes}.
 */
public final class SidecarContainerFactory {

  /** The sidecar's admin HTTP path that answers 200 as soon as it runs. */
  static final String LIVENESS_PATH = "/healthz";

  /** The sidecar's admin HTTP path that answers 200 once it is registered with the router. */
  static final String READINESS_PATH = "/readyz";

  static final String TMP_SIZE_LIMIT = "32Mi";

  private SidecarContainerFactory() {}

  public static Container container(SidecarSpec spec) {
    ContainerBuilder builder =
        new ContainerBuilder()
            .withName(InjectionKeys.SIDECAR_CONTAINER)
            .withImage(spec.image())
            .withImagePullPolicy(spec.imagePullPolicy())
            .addNewPort()
            .withName("grpc")
            .withContainerPort(spec.grpcPort())
            .withProtocol("TCP")
            .endPort()
            .addNewPort()
            .withName("peer")
            .withContainerPort(spec.peerPort())
            .withProtocol("TCP")
            .endPort()
            .addNewPort()
            .withName("metrics")
            .withContainerPort(spec.metricsPort())
            .withProtocol("TCP")
            .endPort()
            .withEnv(env(spec))
            .withResources(spec.resources().toRequirements())
            // On the admin HTTP port: the kubelet dials the pod IP in plaintext, which neither gRPC
            // listener serves (GRPC_PORT is loopback only, PEER_PORT is mutual TLS). Startup: 1 s
            // period, up to 60 s for the JVM to come up; startup and liveness ask /healthz, which
            // does not depend on the router. Readiness asks /readyz, ready only once the sidecar
            // is registered with the router and not draining.
            .withStartupProbe(httpProbe(spec.metricsPort(), LIVENESS_PATH, 1, 1, 60))
            .withLivenessProbe(httpProbe(spec.metricsPort(), LIVENESS_PATH, 10, 2, 3))
            .withReadinessProbe(httpProbe(spec.metricsPort(), READINESS_PATH, 5, 2, 3))
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withRunAsUser(spec.runAsUser())
            .withRunAsGroup(spec.runAsUser())
            .withAllowPrivilegeEscalation(false)
            .withPrivileged(false)
            .withReadOnlyRootFilesystem(true)
            .withNewCapabilities()
            .withDrop("ALL")
            .endCapabilities()
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            .addNewVolumeMount()
            .withName(InjectionKeys.SIDECAR_TMP_VOLUME)
            .withMountPath("/tmp")
            .endVolumeMount()
            .addAllToVolumeMounts(SidecarCredentialVolumes.mounts())
            .withTerminationMessagePolicy("FallbackToLogsOnError");
    if (spec.mode() == SidecarMode.NATIVE) {
      builder.withRestartPolicy("Always");
    }
    return builder.build();
  }

  /**
   * A writable {@code /tmp} for the JVM's temporary files (the image's native libraries load from
   * {@code /app/native}, but Netty falls back to copying one here should that fail).
   */
  public static Volume tmpVolume() {
    return new VolumeBuilder()
        .withName(InjectionKeys.SIDECAR_TMP_VOLUME)
        .withNewEmptyDir()
        .withSizeLimit(new Quantity(TMP_SIZE_LIMIT))
        .endEmptyDir()
        .build();
  }

  /**
   * The sidecar's environment, written through {@link SidecarEnvironment}: the pod's identity from
   * the downward API, the router and the ports from the spec, the discovery range only when the pod
   * asked for one (the sidecar's default applies otherwise). Then the JVM's: the profile's argfile
   * in the image, always (the image has a default, but the pod spec says which one runs).
   */
  private static List<EnvVar> env(SidecarSpec spec) {
    List<EnvVar> env = new ArrayList<>();
    env.add(fieldRef(SidecarEnvironment.POD_NAME));
    env.add(fieldRef(SidecarEnvironment.NAMESPACE));
    env.add(fieldRef(SidecarEnvironment.POD_IP));
    env.add(fieldRef(SidecarEnvironment.POD_UID));
    env.add(value(SidecarEnvironment.CLUSTER_ENDPOINT, spec.clusterEndpoint().toString()));
    env.add(value(SidecarEnvironment.ROUTER_SERVICE_ACCOUNT, spec.routerServiceAccount()));
    env.add(value(SidecarEnvironment.GRPC_PORT, Integer.toString(spec.grpcPort())));
    env.add(value(SidecarEnvironment.PEER_PORT, Integer.toString(spec.peerPort())));
    env.add(value(SidecarEnvironment.METRICS_PORT, Integer.toString(spec.metricsPort())));
    env.add(
        value(SidecarEnvironment.SERVICE_ACCOUNT_TOKEN_FILE, SidecarCredentialVolumes.TOKEN_FILE));
    env.add(
        value(SidecarEnvironment.TRUST_BUNDLE_FILE, SidecarCredentialVolumes.TRUST_BUNDLE_FILE));
    spec.discoveryPorts()
        .ifPresent(
            range -> {
              env.add(
                  value(SidecarEnvironment.DISCOVERY_START_PORT, Integer.toString(range.start())));
              env.add(value(SidecarEnvironment.DISCOVERY_END_PORT, Integer.toString(range.end())));
            });
    env.add(
        new EnvVarBuilder()
            .withName(SidecarProfile.JVM_OPTIONS_VARIABLE)
            .withValue(spec.profile().jvmOptionsArgument())
            .build());
    return env;
  }

  private static EnvVar fieldRef(SidecarEnvironment variable) {
    String fieldPath =
        variable
            .downwardApiField()
            .orElseThrow(
                () -> new IllegalArgumentException(variable + " is not from the downward API"));
    return new EnvVarBuilder()
        .withName(variable.variable())
        .withNewValueFrom()
        .withNewFieldRef()
        .withApiVersion("v1")
        .withFieldPath(fieldPath)
        .endFieldRef()
        .endValueFrom()
        .build();
  }

  private static EnvVar value(SidecarEnvironment variable, String value) {
    return new EnvVarBuilder().withName(variable.variable()).withValue(value).build();
  }

  private static Probe httpProbe(
      int port, String path, int periodSeconds, int timeoutSeconds, int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withPort(new IntOrString(port))
        .withScheme("HTTP")
        .endHttpGet()
        .withPeriodSeconds(periodSeconds)
        .withTimeoutSeconds(timeoutSeconds)
        .withFailureThreshold(failureThreshold)
        .build();
  }
}

package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;

/**
 * What the sidecar is given to prove who it is and whom to trust, and what it is kept from: its
 * pod's projected {@code conveyor.etl} token, the Conveyor trust bundle, and an empty read-only
 * volume over the path where Kubernetes would otherwise mount the pod's default API token.
 *
 * <p>The sidecar never talks to the Kubernetes API, so it must not hold a token that does. The
 * ServiceAccount admission plugin ({@code plugin/pkg/admission/serviceaccount/admission.go}, {@code
 * mountServiceAccountToken}) adds its {@code kube-api-access-*} volume at {@value
 * #DEFAULT_API_TOKEN_DIR} to every init container and container that has no mount at exactly that
 * path ("Existing mounts at the default mount path prevent mounting of the API token"), and the API
 * server runs it again after webhooks that changed the pod when reinvocation applies. A mount of
 * our own at that path is therefore what keeps the token out of the sidecar; the app containers
 * keep theirs, since only the sidecar container gets the shadowing mount.
 */
public final class SidecarCredentialVolumes {

  /** Where the ServiceAccount admission plugin mounts the pod's default API token. */
  public static final String DEFAULT_API_TOKEN_DIR =
      "/var/run/secrets/kubernetes.io/serviceaccount";

  /** The prefix of the volume the ServiceAccount admission plugin adds. */
  public static final String API_TOKEN_VOLUME_PREFIX = "kube-api-access-";

  /** Audience of the sidecar's token: only the Conveyor CA accepts it, not the API server. */
  public static final String TOKEN_AUDIENCE = "conveyor.etl";

  /** An hour: the kubelet refreshes a projected token at 80% of its life, well before expiry. */
  public static final long TOKEN_EXPIRATION_SECONDS = 3600;

  public static final String TOKEN_DIR = "/var/run/secrets/conveyor.etl/serviceaccount";
  public static final String TOKEN_FILE = TOKEN_DIR + "/token";
  public static final String TRUST_BUNDLE_DIR = "/var/run/secrets/conveyor.etl/trust-bundle";
  public static final String TRUST_BUNDLE_FILE =
      TRUST_BUNDLE_DIR + "/" + InjectionKeys.TRUST_BUNDLE_KEY;

  /** Nothing is ever written to the shadowing volume (it is mounted read-only); a page suffices. */
  static final String NO_API_TOKEN_SIZE_LIMIT = "1Ki";

  private SidecarCredentialVolumes() {}

  /** The volumes every injected pod gets for the sidecar's credentials, in the order added. */
  public static List<Volume> volumes() {
    return List.of(tokenVolume(), trustBundleVolume(), noApiTokenVolume());
  }

  /** The sidecar container's read-only mounts of {@link #volumes()}. */
  public static List<VolumeMount> mounts() {
    return List.of(
        readOnly(InjectionKeys.TOKEN_VOLUME, TOKEN_DIR),
        readOnly(InjectionKeys.TRUST_BUNDLE_VOLUME, TRUST_BUNDLE_DIR),
        readOnly(InjectionKeys.NO_API_TOKEN_VOLUME, DEFAULT_API_TOKEN_DIR));
  }

  /** The pod's own projected token, for the Conveyor CA only; the kubelet rotates it. */
  static Volume tokenVolume() {
    return new VolumeBuilder()
        .withName(InjectionKeys.TOKEN_VOLUME)
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(TOKEN_AUDIENCE)
        .withExpirationSeconds(TOKEN_EXPIRATION_SECONDS)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .build();
  }

  /**
   * The trust bundle the operator publishes into every namespace with injected pods. Optional, so
   * that a pod starts before the bundle exists; mounted as a directory (not {@code subPath}), so
   * that the kubelet updates the file in place when the bundle changes.
   */
  static Volume trustBundleVolume() {
    return new VolumeBuilder()
        .withName(InjectionKeys.TRUST_BUNDLE_VOLUME)
        .withNewConfigMap()
        .withName(InjectionKeys.TRUST_BUNDLE_CONFIG_MAP)
        .addNewItem()
        .withKey(InjectionKeys.TRUST_BUNDLE_KEY)
        .withPath(InjectionKeys.TRUST_BUNDLE_KEY)
        .endItem()
        .withOptional(true)
        .endConfigMap()
        .build();
  }

  /** Empty and read-only: occupies {@link #DEFAULT_API_TOKEN_DIR} in the sidecar, holds nothing. */
  static Volume noApiTokenVolume() {
    return new VolumeBuilder()
        .withName(InjectionKeys.NO_API_TOKEN_VOLUME)
        .withNewEmptyDir()
        .withMedium("Memory")
        .withSizeLimit(new Quantity(NO_API_TOKEN_SIZE_LIMIT))
        .endEmptyDir()
        .build();
  }

  private static VolumeMount readOnly(String volume, String path) {
    return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
  }
}

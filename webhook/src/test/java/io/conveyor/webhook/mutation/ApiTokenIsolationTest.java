package io.conveyor.webhook.mutation;

import static io.conveyor.webhook.testing.Fixtures.normalized;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.ServiceAccountAdmission;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sidecar gets only its pod's {@code conveyor.etl} token, never the default API token, through
 * the whole admission chain: the ServiceAccount admission plugin before the webhook, the webhook,
 * and the plugin again afterwards (as the API server reinvokes it after a mutating webhook). The
 * app containers keep the token the plugin gave them.
 */
class ApiTokenIsolationTest {

  record Case(String name, String fixture, String namespace, boolean optedIn, String mode) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> pods() {
    return Stream.of(
        new Case("native sidecar", "annotated", "shop", false, "native"),
        new Case("regular container", "annotated", "shop", false, "container"),
        new Case("job pod with its own init container", "job", "batch", true, "native"),
        new Case(
            "pod with an init container, container mode", "overrides", "pipelines", false, ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pods")
  void theAppKeepsItsApiTokenAndTheSidecarGetsOnlyTheConveyorToken(Case c) {
    Pod created = Fixtures.pod(c.fixture());
    Pod beforeWebhook = ServiceAccountAdmission.admit(created, "7xk2p");

    Pod injected = inject(mutator(c.mode()), beforeWebhook, c);
    Pod afterReinvocation = ServiceAccountAdmission.admit(injected, "other");

    assertTheAppKeepsItsTokenAndTheSidecarHasOnlyTheConveyorToken(afterReinvocation);
  }

  /**
   * A pod whose sidecar an older injector added (say, a Deployment made from a dump of such a pod)
   * is not injected again, but its sidecar still gets the credential mounts: the plugin's pass
   * before the webhook has already mounted the default API token into it, and it would keep it.
   */
  @Test
  void aSidecarFromAnOlderInjectionLosesTheApiTokenAndGetsTheConveyorToken() {
    Pod beforeWebhook = ServiceAccountAdmission.admit(Fixtures.pod("older-injection"), "7xk2p");
    assertThat(mountAt(sidecar(beforeWebhook), ServiceAccountAdmission.DEFAULT_API_TOKEN_DIR))
        .as("what the older injection leaves the sidecar with")
        .extracting(VolumeMount::getName)
        .isEqualTo("kube-api-access-7xk2p");
    PodMutator mutator = mutator("native");
    AdmissionTarget target = new AdmissionTarget("shop", false);
    Object before = normalized(beforeWebhook);

    MutationOutcome outcome = mutator.mutate(beforeWebhook, target);

    assertThat(normalized(beforeWebhook)).as("the input pod is never modified").isEqualTo(before);
    assertThat(outcome).isInstanceOf(MutationOutcome.Repaired.class);
    Pod afterReinvocation =
        ServiceAccountAdmission.admit(((MutationOutcome.Repaired) outcome).pod(), "other");
    assertTheAppKeepsItsTokenAndTheSidecarHasOnlyTheConveyorToken(afterReinvocation);
    assertThat(mutator.mutate(afterReinvocation, target))
        .as("repaired once, left alone after")
        .isEqualTo(new MutationOutcome.Skipped(SkipReason.ALREADY_INJECTED, true));
  }

  private static void assertTheAppKeepsItsTokenAndTheSidecarHasOnlyTheConveyorToken(
      Pod afterReinvocation) {
    for (Container app : appContainers(afterReinvocation)) {
      assertThat(mountAt(app, ServiceAccountAdmission.DEFAULT_API_TOKEN_DIR))
          .as("container %s keeps its API token", app.getName())
          .extracting(VolumeMount::getName)
          .isEqualTo("kube-api-access-7xk2p");
    }
    Container sidecar = sidecar(afterReinvocation);
    assertThat(mountAt(sidecar, ServiceAccountAdmission.DEFAULT_API_TOKEN_DIR))
        .as("the sidecar's default token path is taken by an empty read-only volume")
        .satisfies(
            m -> {
              assertThat(m.getName()).isEqualTo(InjectionKeys.NO_API_TOKEN_VOLUME);
              assertThat(m.getReadOnly()).isTrue();
            });
    assertThat(volume(afterReinvocation, InjectionKeys.NO_API_TOKEN_VOLUME).getEmptyDir())
        .isNotNull();
    assertThat(sidecar.getVolumeMounts())
        .extracting(VolumeMount::getName)
        .noneMatch(name -> name.startsWith(ServiceAccountAdmission.VOLUME_PREFIX));
    assertThat(tokensMountedInto(sidecar, afterReinvocation))
        .as("the only token the sidecar can read is for the Conveyor CA")
        .singleElement()
        .satisfies(
            token -> {
              assertThat(token.getAudience()).isEqualTo("conveyor.etl");
              assertThat(token.getExpirationSeconds()).isEqualTo(3600L);
              assertThat(token.getPath()).isEqualTo("token");
            });
    assertThat(afterReinvocation.getSpec().getVolumes())
        .extracting(Volume::getName)
        .as("one API token volume, each volume once")
        .doesNotHaveDuplicates()
        .filteredOn(name -> name.startsWith(ServiceAccountAdmission.VOLUME_PREFIX))
        .containsExactly("kube-api-access-7xk2p");
  }

  /**
   * The counter-check of the model above: a container the webhook added without the shadowing mount
   * is given the default token by the plugin's second pass. This is what the sidecar got before
   * issue 12.
   */
  @Test
  void withoutTheShadowingMountThePluginsSecondPassWouldHandTheSidecarTheApiToken() {
    Case c = new Case("native", "annotated", "shop", false, "native");
    Pod injected =
        inject(
            mutator("native"),
            ServiceAccountAdmission.admit(Fixtures.pod("annotated"), "7xk2p"),
            c);
    Pod unshadowed = new PodBuilder(injected).build();
    Container sidecar = sidecar(unshadowed);
    sidecar.setVolumeMounts(
        sidecar.getVolumeMounts().stream()
            .filter(m -> !InjectionKeys.NO_API_TOKEN_VOLUME.equals(m.getName()))
            .toList());

    Pod afterReinvocation = ServiceAccountAdmission.admit(unshadowed, "other");

    assertThat(mountAt(sidecar(afterReinvocation), ServiceAccountAdmission.DEFAULT_API_TOKEN_DIR))
        .extracting(VolumeMount::getName)
        .isEqualTo("kube-api-access-7xk2p");
  }

  @Test
  void aPodThatTurnsAutomountingOffGetsNoApiTokenAnywhereAndTheSidecarStillItsOwn() {
    Pod created =
        new PodBuilder(Fixtures.pod("annotated"))
            .editSpec()
            .withAutomountServiceAccountToken(false)
            .endSpec()
            .build();
    Case c = new Case("no automount", "annotated", "shop", false, "native");

    Pod afterReinvocation =
        ServiceAccountAdmission.admit(
            inject(mutator("native"), ServiceAccountAdmission.admit(created, "7xk2p"), c), "x");

    assertThat(afterReinvocation.getSpec().getVolumes())
        .extracting(Volume::getName)
        .noneMatch(name -> name.startsWith(ServiceAccountAdmission.VOLUME_PREFIX));
    assertThat(tokensMountedInto(sidecar(afterReinvocation), afterReinvocation))
        .extracting(ServiceAccountTokenProjection::getAudience)
        .containsExactly("conveyor.etl");
  }

  /** Reinvoking the webhook after the plugin's second pass changes nothing: no second volume. */
  @Test
  void reinvocationAfterThePluginLeavesThePodAsItIs() {
    Case c = new Case("native", "annotated", "shop", false, "native");
    PodMutator mutator = mutator("native");
    Pod afterReinvocation =
        ServiceAccountAdmission.admit(
            inject(mutator, ServiceAccountAdmission.admit(Fixtures.pod("annotated"), "7xk2p"), c),
            "x");

    MutationOutcome again =
        mutator.mutate(afterReinvocation, new AdmissionTarget(c.namespace(), c.optedIn()));

    assertThat(again).isEqualTo(new MutationOutcome.Skipped(SkipReason.ALREADY_INJECTED, true));
  }

  @Test
  void theStatusAnnotationListsExactlyTheVolumesTheInjectionAdded() {
    Pod pod = ServiceAccountAdmission.admit(Fixtures.pod("overrides"), "7xk2p");
    MutationOutcome.Injected injected =
        (MutationOutcome.Injected) mutator("").mutate(pod, new AdmissionTarget("pipelines", false));

    List<String> before = pod.getSpec().getVolumes().stream().map(Volume::getName).toList();
    List<String> added =
        injected.pod().getSpec().getVolumes().stream()
            .map(Volume::getName)
            .filter(name -> !before.contains(name))
            .toList();
    InjectionStatus recorded =
        InjectionStatus.fromJson(
            injected.pod().getMetadata().getAnnotations().get(InjectionKeys.STATUS));

    assertThat(recorded.volumes())
        .containsExactly(
            "conveyor-sidecar-tmp",
            "conveyor-token",
            "conveyor-trust-bundle",
            "conveyor-no-api-token")
        .isEqualTo(added)
        .isEqualTo(injected.status().volumes());
  }

  @Test
  void anAnnotationWrittenBeforeVolumesWereRecordedStillReads() {
    InjectionStatus old =
        InjectionStatus.fromJson(
            "{\"version\":\"0.1.0\",\"container\":\"conveyor-sidecar\",\"mode\":\"native\","
                + "\"image\":\"ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0\"}");

    assertThat(old.volumes()).isEmpty();
  }

  @Test
  void aPodWhoseVolumeNameTheSidecarNeedsIsDeniedWithTheNameSaid() {
    for (String name : InjectionKeys.VOLUMES) {
      Pod pod =
          new PodBuilder(Fixtures.pod("annotated"))
              .editSpec()
              .addNewVolume()
              .withName(name)
              .withNewEmptyDir()
              .endEmptyDir()
              .endVolume()
              .endSpec()
              .build();

      MutationOutcome outcome = mutator("native").mutate(pod, new AdmissionTarget("shop", false));

      assertThat(outcome)
          .as(name)
          .isInstanceOfSatisfying(
              MutationOutcome.Denied.class,
              denied ->
                  assertThat(denied.message())
                      .contains(
                          "the pod already has a volume named "
                              + name
                              + ", which the sidecar needs; rename it"));
    }
  }

  private static PodMutator mutator(String mode) {
    return new PodMutator(
        Fixtures.config(mode.isEmpty() ? Map.of() : Map.of("SIDECAR_MODE", mode)).sidecar());
  }

  private static Pod inject(PodMutator mutator, Pod pod, Case c) {
    Object before = normalized(pod);
    MutationOutcome outcome = mutator.mutate(pod, new AdmissionTarget(c.namespace(), c.optedIn()));
    assertThat(normalized(pod)).as("the input pod is never modified").isEqualTo(before);
    assertThat(outcome).isInstanceOf(MutationOutcome.Injected.class);
    return ((MutationOutcome.Injected) outcome).pod();
  }

  private static Stream<Container> allContainers(Pod pod) {
    return Stream.concat(
        pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream());
  }

  private static Container sidecar(Pod pod) {
    return allContainers(pod)
        .filter(c -> InjectionKeys.SIDECAR_CONTAINER.equals(c.getName()))
        .findFirst()
        .orElseThrow();
  }

  private static List<Container> appContainers(Pod pod) {
    List<Container> apps =
        allContainers(pod)
            .filter(c -> !InjectionKeys.SIDECAR_CONTAINER.equals(c.getName()))
            .toList();
    assertThat(apps).isNotEmpty();
    return apps;
  }

  private static VolumeMount mountAt(Container container, String path) {
    return container.getVolumeMounts().stream()
        .filter(m -> path.equals(m.getMountPath()))
        .reduce(
            (a, b) -> {
              throw new AssertionError(container.getName() + " mounts two volumes at " + path);
            })
        .orElseThrow(() -> new AssertionError(container.getName() + " mounts nothing at " + path));
  }

  private static Volume volume(Pod pod, String name) {
    return pod.getSpec().getVolumes().stream()
        .filter(v -> name.equals(v.getName()))
        .findFirst()
        .orElseThrow();
  }

  /** Every ServiceAccount token projected into a volume the container mounts. */
  private static List<ServiceAccountTokenProjection> tokensMountedInto(Container c, Pod pod) {
    return c.getVolumeMounts().stream()
        .map(m -> volume(pod, m.getName()))
        .filter(v -> v.getProjected() != null)
        .flatMap(v -> v.getProjected().getSources().stream())
        .map(VolumeProjection::getServiceAccountToken)
        .filter(Objects::nonNull)
        .toList();
  }
}

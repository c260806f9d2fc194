package io.conveyor.webhook.mutation;

import static io.conveyor.webhook.testing.Fixtures.normalized;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.webhook.admission.InjectionPatch;
import io.conveyor.webhook.admission.JsonPatches;
import io.conveyor.webhook.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mutation table: each pod, where it is admitted, and exactly what must come out. For every
 * injection, the JSON Patch diffed from the result is also applied to the raw original pod and must
 * give the expected pod.
 */
class PodMutatorTest {

  private static final PodMutator MUTATOR = new PodMutator(Fixtures.config(Map.of()).sidecar());
  private static final java.util.function.Function<Object, JsonNode> TO_TREE =
      o -> Fixtures.SERIALIZATION.convertValue(o, JsonNode.class);

  sealed interface Expect {}

  record Injects(String expectedFixture) implements Expect {}

  record Skips(SkipReason reason, boolean requested) implements Expect {}

  record Denies(List<String> fragments) implements Expect {}

  record Case(
      String name,
      String fixture,
      Map<String, String> extraAnnotations,
      String namespace,
      boolean namespaceOptedIn,
      Expect expect) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case c(String name, String fixture, String namespace, boolean optedIn, Expect expect) {
    return new Case(name, fixture, Map.of(), namespace, optedIn, expect);
  }

  static Case c(
      String name,
      String fixture,
      Map<String, String> annotations,
      String namespace,
      Expect expect) {
    return new Case(name, fixture, annotations, namespace, false, expect);
  }

  static Stream<Case> table() {
    return Stream.of(
        // injection
        c(
            "annotated pod gets a native sidecar",
            "annotated",
            "shop",
            false,
            new Injects("annotated.expected")),
        c(
            "plain pod in an opted-in namespace",
            "plain",
            "shop",
            true,
            new Injects("plain.namespace-enabled.expected")),
        c(
            "every override, container mode",
            "overrides",
            "pipelines",
            false,
            new Injects("overrides.expected")),
        c(
            "pod as the ServiceAccount plugin hands it: the app keeps its API token",
            "service-account",
            "shop",
            false,
            new Injects("service-account.expected")),
        c(
            "job pod: sidecar before its init container",
            "job",
            "batch",
            true,
            new Injects("job.expected")),
        // left alone
        c(
            "plain pod, namespace not opted in",
            "plain",
            "shop",
            false,
            new Skips(SkipReason.NOT_OPTED_IN, false)),
        c(
            "pod says false in an opted-in namespace",
            "opted-out",
            "shop",
            true,
            new Skips(SkipReason.OPTED_OUT, false)),
        c(
            "already injected (reinvocation)",
            "annotated.expected",
            "shop",
            false,
            new Skips(SkipReason.ALREADY_INJECTED, true)),
        c(
            "already injected as a container",
            "overrides.expected",
            "shop",
            true,
            new Skips(SkipReason.ALREADY_INJECTED, true)),
        c(
            "hostNetwork pod",
            "host-network",
            "shop",
            false,
            new Skips(SkipReason.HOST_NETWORK, true)),
        c(
            "kube-system",
            "annotated",
            "kube-system",
            true,
            new Skips(SkipReason.EXCLUDED_NAMESPACE, true)),
        c(
            "kube-public",
            "annotated",
            "kube-public",
            false,
            new Skips(SkipReason.EXCLUDED_NAMESPACE, true)),
        c(
            "kube-node-lease",
            "plain",
            "kube-node-lease",
            true,
            new Skips(SkipReason.EXCLUDED_NAMESPACE, false)),
        c(
            "the webhook's own namespace",
            "annotated",
            "conveyor-system",
            true,
            new Skips(SkipReason.EXCLUDED_NAMESPACE, true)),
        c(
            "invalid override in kube-system is not our business",
            "annotated",
            Map.of(InjectionKeys.GRPC_PORT, "nope"),
            "kube-system",
            new Skips(SkipReason.EXCLUDED_NAMESPACE, true)),
        // denied, with the annotation named and what it accepts
        c(
            "bad mode",
            "annotated",
            Map.of(InjectionKeys.SIDECAR_MODE, "sidecar"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/sidecar-mode='sidecar' is not valid: expected native or container"))),
        c(
            "unknown profile (the values are exact: a JVM flag is not one)",
            "annotated",
            Map.of(InjectionKeys.SIDECAR_PROFILE, "-XX:+UseParallelGC"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/sidecar-profile='-XX:+UseParallelGC' is not valid: expected compact or throughput"))),
        c(
            "bad cpu quantity",
            "annotated",
            Map.of(InjectionKeys.CPU_REQUEST, "lots"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/sidecar-cpu-request='lots' is not valid: expected a Kubernetes CPU quantity, e.g. 100m or 0.5"))),
        c(
            "memory in MB is not a Kubernetes quantity",
            "annotated",
            Map.of(InjectionKeys.MEMORY_LIMIT, "256MB"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/sidecar-memory-limit='256MB' is not valid: expected a Kubernetes memory quantity, e.g. 128Mi or 1Gi"))),
        c(
            "port out of range",
            "annotated",
            Map.of(InjectionKeys.GRPC_PORT, "70000"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/grpc-port='70000' is not valid: expected a port number from 1 to 65535"))),
        c(
            "reversed discovery range",
            "annotated",
            Map.of(InjectionKeys.DISCOVERY_PORTS, "50060-50051"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/discovery-ports='50060-50051' is not valid: expected start-end"))),
        c(
            "discovery range wider than the sidecar scans",
            "annotated",
            Map.of(InjectionKeys.DISCOVERY_PORTS, "1-65535"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/discovery-ports='1-65535' is not valid: expected start-end",
                    "at most 4096 ports"))),
        c(
            "endpoint without port",
            "annotated",
            Map.of(InjectionKeys.CLUSTER_ENDPOINT, "router"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/cluster-endpoint='router' is not valid: expected host:port"))),
        c(
            "bad boolean in an opted-in namespace",
            "plain",
            Map.of(InjectionKeys.INJECT, "yes"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/inject='yes' is not valid: expected \"true\" or \"false\""))),
        c(
            "request above the default limit",
            "annotated",
            Map.of(InjectionKeys.MEMORY_REQUEST, "512Mi"),
            "shop",
            new Denies(
                List.of(
                    "conveyor.etl/sidecar-memory-request (512Mi) is above conveyor.etl/sidecar-memory-limit (192Mi)"))),
        c(
            "gRPC port taken by the app",
            "annotated",
            Map.of(InjectionKeys.GRPC_PORT, "50051"),
            "shop",
            new Denies(
                List.of(
                    "container 'app' uses port 50051, the sidecar's gRPC port; set annotation conveyor.etl/grpc-port to a free port"))),
        c(
            "gRPC and metrics on one port",
            "annotated",
            Map.of(InjectionKeys.GRPC_PORT, "9090"),
            "shop",
            new Denies(List.of("the sidecar's gRPC port and metrics port are both 9090"))),
        c(
            "peer port out of range",
            "annotated",
            Map.of(InjectionKeys.PEER_PORT, "0"),
            "shop",
            new Denies(
                List.of(
                    "annotation conveyor.etl/peer-port='0' is not valid: expected a port number from 1 to 65535"))),
        c(
            "peer port taken by the app",
            "annotated",
            Map.of(InjectionKeys.PEER_PORT, "50051"),
            "shop",
            new Denies(
                List.of(
                    "container 'app' uses port 50051, the sidecar's peer port; set annotation conveyor.etl/peer-port to a free port"))),
        c(
            "gRPC and peer on one port",
            "annotated",
            Map.of(InjectionKeys.PEER_PORT, "9091"),
            "shop",
            new Denies(
                List.of(
                    "the sidecar's gRPC port and peer port are both 9091: set conveyor.etl/grpc-port or conveyor.etl/peer-port so that they differ"))),
        c(
            "peer and metrics on one port",
            "annotated",
            Map.of(InjectionKeys.METRICS_PORT, "7000", InjectionKeys.PEER_PORT, "7000"),
            "shop",
            new Denies(
                List.of(
                    "the sidecar's peer port and metrics port are both 7000: set conveyor.etl/peer-port or conveyor.etl/metrics-port so that they differ"))),
        c(
            "all three ports on one",
            "annotated",
            Map.of(
                InjectionKeys.GRPC_PORT,
                "7000",
                InjectionKeys.PEER_PORT,
                "7000",
                InjectionKeys.METRICS_PORT,
                "7000"),
            "shop",
            new Denies(
                List.of(
                    "the sidecar's gRPC port and peer port are both 7000",
                    "the sidecar's gRPC port and metrics port are both 7000",
                    "the sidecar's peer port and metrics port are both 7000"))),
        c(
            "every problem at once",
            "annotated",
            Map.of(
                InjectionKeys.SIDECAR_MODE,
                "both",
                InjectionKeys.CPU_LIMIT,
                "-1",
                InjectionKeys.METRICS_PORT,
                "x"),
            "shop",
            new Denies(
                List.of(
                    "conveyor.etl/sidecar-mode='both'",
                    "conveyor.etl/sidecar-cpu-limit='-1'",
                    "conveyor.etl/metrics-port='x'"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void mutationTable(Case c) {
    ObjectNode raw = Fixtures.rawPod(c.fixture(), c.extraAnnotations());
    Pod pod = Fixtures.pod(raw);
    JsonNode before = normalized(pod);

    MutationOutcome outcome =
        MUTATOR.mutate(pod, new AdmissionTarget(c.namespace(), c.namespaceOptedIn()));

    assertThat(normalized(pod)).as("the input pod is never modified").isEqualTo(before);
    if (c.expect() instanceof Injects injects) {
      assertThat(outcome).isInstanceOf(MutationOutcome.Injected.class);
      Pod mutated = ((MutationOutcome.Injected) outcome).pod();
      JsonNode expected = normalized(Fixtures.rawPod(injects.expectedFixture()));
      assertThat(normalized(mutated)).isEqualTo(expected);

      JsonNode patch = JsonPatches.diff(normalized(pod), normalized(mutated));
      JsonNode patched = JsonPatch.apply(patch, raw);
      assertThat(normalized(patched)).as("patch applied to the raw pod").isEqualTo(expected);

      // What the webhook sends: the additions' own patch, against the raw pod.
      JsonNode sent =
          InjectionPatch.of(raw, ((MutationOutcome.Injected) outcome).additions(), TO_TREE);
      assertThat(sent).allSatisfy(op -> assertThat(op.get("op").asText()).isEqualTo("add"));
      assertThat(normalized(JsonPatch.apply(sent, raw)))
          .as("the additions' patch applied to the raw pod")
          .isEqualTo(expected);
    } else if (c.expect() instanceof Skips skips) {
      assertThat(outcome).isEqualTo(new MutationOutcome.Skipped(skips.reason(), skips.requested()));
    } else if (c.expect() instanceof Denies denies) {
      assertThat(outcome).isInstanceOf(MutationOutcome.Denied.class);
      String message = ((MutationOutcome.Denied) outcome).message();
      assertThat(message).startsWith("Conveyor sidecar injection refused: ");
      for (String fragment : denies.fragments()) {
        assertThat(message).contains(fragment);
      }
    }
  }

  /**
   * The patch is written against the pod as sent: into lists and maps it already has, even empty
   * ones (a whole-list add would replace them), and whole where it has none.
   */
  @Test
  void theInjectionPatchAddsIntoWhatThePodHasAndWholeWhereItHasNothing() {
    ObjectNode raw = Fixtures.rawPod("annotated", Map.of());
    ((ObjectNode) raw.get("metadata")).remove("labels");
    ObjectNode spec = (ObjectNode) raw.get("spec");
    spec.putArray("volumes");
    spec.putArray("initContainers")
        .addObject()
        .put("name", "prepare")
        .put("image", "busybox")
        .putArray("command")
        .add("true");
    Pod pod = Fixtures.pod(raw);
    MutationOutcome.Injected injected =
        (MutationOutcome.Injected) MUTATOR.mutate(pod, new AdmissionTarget("shop", false));

    JsonNode patch = InjectionPatch.of(raw, injected.additions(), TO_TREE);

    List<String> operations = new ArrayList<>();
    patch.forEach(op -> operations.add(op.get("op").asText() + " " + op.get("path").asText()));
    assertThat(operations)
        .containsExactly(
            "add /metadata/labels",
            "add /metadata/annotations/conveyor.etl~1status",
            "add /spec/initContainers/0",
            "add /spec/volumes/-",
            "add /spec/volumes/-",
            "add /spec/volumes/-",
            "add /spec/volumes/-");
    JsonNode patched = JsonPatch.apply(patch, raw);
    assertThat(patched.at("/spec/initContainers/1/name").asText()).isEqualTo("prepare");
    assertThat(normalized(patched)).isEqualTo(normalized(injected.pod()));
  }

  /** In container mode too: a pod without containers gets the whole list, not an append. */
  @Test
  void theInjectionPatchAddsAWholeContainerListWhereThePodHasNone() {
    ObjectNode raw = Fixtures.rawPod("annotated", Map.of(InjectionKeys.SIDECAR_MODE, "container"));
    ((ObjectNode) raw.get("spec")).remove("containers");
    MutationOutcome.Injected injected =
        (MutationOutcome.Injected)
            MUTATOR.mutate(Fixtures.pod(raw), new AdmissionTarget("shop", false));

    JsonNode patch = InjectionPatch.of(raw, injected.additions(), TO_TREE);

    assertThat(patch.findValuesAsText("path")).contains("/spec/containers");
    JsonNode patched = JsonPatch.apply(patch, raw);
    assertThat(patched.at("/spec/containers/0/name").asText()).isEqualTo("conveyor-sidecar");
    assertThat(normalized(patched)).isEqualTo(normalized(injected.pod()));
  }

  @Test
  void theJsonPatchAddsExactlyTheSidecarItsVolumeTheLabelAndTheStatus() {
    ObjectNode raw = Fixtures.rawPod("annotated", Map.of());
    MutationOutcome.Injected injected =
        (MutationOutcome.Injected)
            MUTATOR.mutate(Fixtures.pod(raw), new AdmissionTarget("shop", false));

    JsonNode patch = InjectionPatch.of(raw, injected.additions(), TO_TREE);

    List<String> operations = new ArrayList<>();
    patch.forEach(op -> operations.add(op.get("op").asText() + " " + op.get("path").asText()));
    assertThat(operations)
        .containsExactlyInAnyOrder(
            "add /metadata/labels/conveyor.etl~1injected",
            "add /metadata/annotations/conveyor.etl~1status",
            "add /spec/initContainers",
            "add /spec/volumes");
    for (JsonNode op : patch) {
      if (op.get("path").asText().equals("/metadata/annotations/conveyor.etl~1status")) {
        assertThat(InjectionStatus.fromJson(op.get("value").asText()))
            .isEqualTo(
                new InjectionStatus(
                    "0.1.0",
                    "conveyor-sidecar",
                    "native",
                    "ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0",
                    List.of(
                        "conveyor-sidecar-tmp",
                        "conveyor-token",
                        "conveyor-trust-bundle",
                        "conveyor-no-api-token")));
      }
    }
  }

  /**
   * A pod reaches the webhook with the ServiceAccount plugin's token already mounted into its app
   * container: the patch leaves that container and that volume alone and appends the sidecar's.
   */
  @Test
  void thePatchLeavesTheAppsApiTokenAloneAndAppendsTheSidecarsVolumes() {
    Pod pod = Fixtures.pod("service-account");
    Pod mutated =
        ((MutationOutcome.Injected) MUTATOR.mutate(pod, new AdmissionTarget("shop", false))).pod();

    JsonNode patch = JsonPatches.diff(normalized(pod), normalized(mutated));

    List<String> operations = new ArrayList<>();
    patch.forEach(op -> operations.add(op.get("op").asText() + " " + op.get("path").asText()));
    assertThat(operations)
        .containsExactlyInAnyOrder(
            "add /metadata/labels/conveyor.etl~1injected",
            "add /metadata/annotations/conveyor.etl~1status",
            "add /spec/initContainers",
            "add /spec/volumes/1",
            "add /spec/volumes/2",
            "add /spec/volumes/3",
            "add /spec/volumes/4");
    List<String> added = new ArrayList<>();
    patch.forEach(
        op -> {
          if (op.get("path").asText().startsWith("/spec/volumes/")) {
            added.add(op.get("value").get("name").asText());
          }
        });
    assertThat(added)
        .containsExactlyInAnyOrder(
            "conveyor-sidecar-tmp",
            "conveyor-token",
            "conveyor-trust-bundle",
            "conveyor-no-api-token");
  }

  /**
   * A sidecar from an injection before issue 12: the patch touches only its volume mounts and the
   * pod's volumes, and applied to the raw pod gives the repaired one.
   */
  @Test
  void theRepairOfAnOlderInjectionPatchesOnlyTheSidecarsMountsAndThePodsVolumes() {
    ObjectNode raw = Fixtures.rawPod("older-injection");
    Pod pod = Fixtures.pod(raw);

    MutationOutcome outcome = MUTATOR.mutate(pod, new AdmissionTarget("shop", false));

    assertThat(outcome).isInstanceOf(MutationOutcome.Repaired.class);
    MutationOutcome.Repaired repaired = (MutationOutcome.Repaired) outcome;
    assertThat(repaired.repairs())
        .containsExactly(
            "added volume conveyor-token",
            "added volume conveyor-trust-bundle",
            "added volume conveyor-no-api-token",
            "mounted conveyor-token at /var/run/secrets/conveyor.etl/serviceaccount",
            "mounted conveyor-trust-bundle at /var/run/secrets/conveyor.etl/trust-bundle",
            "mounted conveyor-no-api-token at /var/run/secrets/kubernetes.io/serviceaccount");
    JsonNode patch = JsonPatches.diff(normalized(pod), normalized(repaired.pod()));
    List<String> operations = new ArrayList<>();
    patch.forEach(op -> operations.add(op.get("op").asText() + " " + op.get("path").asText()));
    assertThat(operations)
        .isNotEmpty()
        .allSatisfy(
            op ->
                assertThat(op)
                    .matches("add (/spec/initContainers/0/volumeMounts/\\d+|/spec/volumes/\\d+)"));
    assertThat(normalized(JsonPatch.apply(patch, raw)))
        .as("patch applied to the raw pod")
        .isEqualTo(normalized(repaired.pod()));
  }

  @Test
  void aVolumeOfTheSidecarsNameThatIsNotTheSidecarsIsDeniedOnRepairToo() {
    ObjectNode raw = Fixtures.rawPod("older-injection");
    ((ObjectNode) raw.get("spec"))
        .withArray("volumes")
        .addObject()
        .put("name", "conveyor-token")
        .putObject("emptyDir");

    MutationOutcome outcome = MUTATOR.mutate(Fixtures.pod(raw), new AdmissionTarget("shop", false));

    assertThat(outcome)
        .isEqualTo(
            new MutationOutcome.Denied(
                List.of(
                    "the pod already has a volume named conveyor-token, which the sidecar needs;"
                        + " rename it")));
  }

  @Test
  void aPodWithOtherInitContainersGetsTheSidecarInsertedAtIndexZero() {
    Pod pod = Fixtures.pod("job");
    Pod mutated =
        ((MutationOutcome.Injected) MUTATOR.mutate(pod, new AdmissionTarget("batch", true))).pod();

    JsonNode patch = JsonPatches.diff(normalized(pod), normalized(mutated));

    List<String> paths = new ArrayList<>();
    patch.forEach(op -> paths.add(op.get("op").asText() + " " + op.get("path").asText()));
    assertThat(paths).contains("add /spec/initContainers/0");
    assertThat(paths).noneMatch(p -> p.startsWith("replace /spec/initContainers"));
  }

  @Test
  void podsMadeByControllersGetTheirIdentityFromTheDownwardApi() {
    Pod pod = Fixtures.pod("annotated");
    assertThat(pod.getMetadata().getName()).isNull();

    Container sidecar =
        ((MutationOutcome.Injected) MUTATOR.mutate(pod, new AdmissionTarget("shop", false)))
            .pod()
            .getSpec()
            .getInitContainers()
            .get(0);

    assertThat(sidecar.getEnv())
        .filteredOn(e -> e.getValueFrom() != null)
        .extracting(e -> e.getName() + "=" + e.getValueFrom().getFieldRef().getFieldPath())
        .containsExactly(
            "POD_NAME=metadata.name",
            "NAMESPACE=metadata.namespace",
            "POD_IP=status.podIP",
            "POD_UID=metadata.uid");
  }

  @Test
  void configurationCanMakeRegularContainersTheDefaultAndAPodCanStillAskForNative() {
    PodMutator containerByDefault =
        new PodMutator(Fixtures.config(Map.of("SIDECAR_MODE", "container")).sidecar());

    Pod byDefault =
        ((MutationOutcome.Injected)
                containerByDefault.mutate(
                    Fixtures.pod("annotated"), new AdmissionTarget("shop", false)))
            .pod();
    Pod asked =
        ((MutationOutcome.Injected)
                containerByDefault.mutate(
                    Fixtures.pod(
                        Fixtures.rawPod("annotated", Map.of(InjectionKeys.SIDECAR_MODE, "native"))),
                    new AdmissionTarget("shop", false)))
            .pod();

    assertThat(byDefault.getSpec().getInitContainers()).isEmpty();
    assertThat(byDefault.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app", "conveyor-sidecar");
    assertThat(byDefault.getSpec().getContainers().get(1).getRestartPolicy()).isNull();
    assertThat(asked.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly("conveyor-sidecar");
    assertThat(asked.getSpec().getInitContainers().get(0).getRestartPolicy()).isEqualTo("Always");
  }
}

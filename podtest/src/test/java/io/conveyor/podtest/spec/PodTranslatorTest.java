package io.conveyor.podtest.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conveyor.podtest.PodFixtures;
import io.conveyor.sidecar.identity.TokenServiceAccount;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pure translation, on the webhook's real mutation of a Deployment's pod and on hand-written
 * pods.
 */
class PodTranslatorTest {

  static final String SIDECAR_IMAGE = "ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0";
  static final String EXAMPLES_IMAGE = "ghcr.io/conveyor-etl/conveyor-examples:0.1.0";

  static final ImageConfig SIDECAR =
      new ImageConfig(
          Path.of("/images/sidecar"),
          List.of("java", "-jar", "/app/conveyor-sidecar.jar"),
          List.of(),
          List.of("JAVA_VERSION=17"),
          "65532",
          "/app");
  static final ImageConfig EXAMPLES =
      new ImageConfig(
          Path.of("/images/examples"),
          List.of("java", "-jar", "/app/conveyor-examples.jar"),
          List.of("source"),
          List.of(),
          "65532:65532",
          "");
  static final ImageConfig ROOT_IMAGE =
      new ImageConfig(Path.of("/images/root"), List.of("/bin/sh"), List.of(), List.of(), "", "");

  static final PodIdentity IDENTITY =
      new PodIdentity(
          "demo-sink-7d9f8b6c5-x2b4k",
          "shop",
          "0b6d3f7e-1111-4c2e-9a7e-3c5a2f1d9e10",
          "198.18.7.9",
          Path.of("/var/run/netns/cvp00000-demo-sink"));
  static final PodLayout LAYOUT = new PodLayout(Path.of("/work/pods/demo-sink"));

  private static PodPlan translate(Pod pod) {
    return new PodTranslator(
            Map.of(SIDECAR_IMAGE, SIDECAR, EXAMPLES_IMAGE, EXAMPLES, "root", ROOT_IMAGE), Map.of())
        .translate(pod, IDENTITY, LAYOUT, "cvp00000/demo-sink");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static JsonNode mount(JsonNode config, String destination) {
    return StreamSupport.stream(config.path("mounts").spliterator(), false)
        .filter(m -> m.path("destination").asText().equals(destination))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no mount at " + destination + ": " + config.path("mounts")));
  }

  @Test
  void theWebhooksMutatedPodBecomesANativeSidecarStartedBeforeTheApp() {
    PodPlan plan = translate(PodFixtures.mutatedDemoSink());

    assertThat(plan.containers())
        .extracting(ContainerPlan::name, ContainerPlan::kind, ContainerPlan::restartPolicy)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "conveyor-sidecar", ContainerPlan.Kind.NATIVE_SIDECAR, "Always"),
            org.assertj.core.groups.Tuple.tuple("app", ContainerPlan.Kind.APP, "Always"));
  }

  @Test
  void theSidecarsSecurityContextResourcesAndNetworkReachTheRuntimeConfig() {
    ContainerPlan sidecar = translate(PodFixtures.mutatedDemoSink()).container("conveyor-sidecar");
    JsonNode config = sidecar.config();

    assertThat(config.at("/process/user/uid").asLong()).isEqualTo(65532);
    assertThat(config.at("/process/user/gid").asLong()).isEqualTo(65532);
    assertThat(config.at("/process/noNewPrivileges").asBoolean()).isTrue();
    assertThat(config.at("/process/capabilities/bounding")).isEmpty();
    assertThat(config.at("/process/capabilities/effective")).isEmpty();
    assertThat(config.at("/root/readonly").asBoolean()).isTrue();
    assertThat(config.at("/root/path").asText()).isEqualTo("/images/sidecar");
    assertThat(config.at("/linux/resources/memory/limit").asLong()).isEqualTo(192L << 20);
    assertThat(sidecar.memoryLimitBytes()).isEqualTo(192L << 20);
    // cpu request 50m: the kubelet's shares
    assertThat(config.at("/linux/resources/cpu/shares").asLong()).isEqualTo(51);
    assertThat(config.at("/linux/resources/cpu/quota").isMissingNode()).isTrue();
    assertThat(config.at("/linux/cgroupsPath").asText())
        .isEqualTo("/cvp00000/demo-sink/conveyor-sidecar");
    assertThat(config.at("/linux/namespaces"))
        .anySatisfy(
            ns -> {
              assertThat(ns.path("type").asText()).isEqualTo("network");
              assertThat(ns.path("path").asText()).isEqualTo("/var/run/netns/cvp00000-demo-sink");
            });
    assertThat(texts(config.at("/linux/seccomp/syscalls/0/names")))
        .contains("ptrace", "mount", "unshare");
    assertThat(config.at("/linux/seccomp/defaultAction").asText()).isEqualTo("SCMP_ACT_ALLOW");
    assertThat(config.at("/hostname").asText()).isEqualTo("demo-sink-7d9f8b6c5-x2b4k");
    assertThat(config.at("/process/cwd").asText()).isEqualTo("/app");
    // no command or args in the injected container: the image's entrypoint runs
    assertThat(texts(config.at("/process/args")))
        .containsExactly("java", "-jar", "/app/conveyor-sidecar.jar");
  }

  @Test
  void theDownwardApiValuesAreFilledFromThePodsIdentity() {
    JsonNode config =
        translate(PodFixtures.mutatedDemoSink()).container("conveyor-sidecar").config();

    assertThat(texts(config.at("/process/env")))
        .contains(
            "POD_NAME=demo-sink-7d9f8b6c5-x2b4k",
            "NAMESPACE=shop",
            "POD_IP=198.18.7.9",
            "POD_UID=0b6d3f7e-1111-4c2e-9a7e-3c5a2f1d9e10",
            "JAVA_VERSION=17",
            "HOSTNAME=demo-sink-7d9f8b6c5-x2b4k",
            "GRPC_PORT=9091",
            "PATH=" + PodTranslator.DEFAULT_PATH);
  }

  @Test
  void theSidecarsVolumesAreMountedWhereThePodSpecSaysWithTheirModes() throws Exception {
    PodPlan plan = translate(PodFixtures.mutatedDemoSink());
    JsonNode config = plan.container("conveyor-sidecar").config();

    JsonNode tmp = mount(config, "/tmp");
    assertThat(tmp.path("source").asText())
        .isEqualTo(LAYOUT.volume("conveyor-sidecar-tmp").toString());
    assertThat(texts(tmp.path("options"))).contains("rbind", "rw");
    assertThat(texts(mount(config, "/var/run/secrets/conveyor.etl/serviceaccount").path("options")))
        .contains("ro");
    assertThat(
            texts(mount(config, "/var/run/secrets/kubernetes.io/serviceaccount").path("options")))
        .contains("ro");
    assertThat(mount(config, "/etc/hosts").path("source").asText())
        .isEqualTo(LAYOUT.etcHosts().toString());
    assertThat(
            mount(config, PodTranslator.DEFAULT_TERMINATION_MESSAGE_PATH).path("source").asText())
        .isEqualTo(LAYOUT.terminationMessage("conveyor-sidecar").toString());

    assertThat(plan.volumes())
        .filteredOn(v -> v.name().equals("conveyor-sidecar-tmp"))
        .singleElement()
        .isEqualTo(
            new VolumePlan.EmptyDir(
                "conveyor-sidecar-tmp", LAYOUT.volume("conveyor-sidecar-tmp"), 32L << 20));
    assertThat(plan.volumes())
        .filteredOn(v -> v.name().equals("conveyor-no-api-token"))
        .singleElement()
        .isEqualTo(
            new VolumePlan.MemoryDir(
                "conveyor-no-api-token", LAYOUT.volume("conveyor-no-api-token"), 1024));
    VolumePlan.Files token =
        (VolumePlan.Files)
            plan.volumes().stream()
                .filter(v -> v.name().equals("conveyor-token"))
                .findFirst()
                .orElseThrow();
    assertThat(token.mode()).isEqualTo(0644);
    String jwt = new String(token.files().get("token"), StandardCharsets.UTF_8);
    assertThat(jwt)
        .isEqualTo(
            new FakeServiceAccountToken(
                    "shop", "demo-sink", IDENTITY.name(), IDENTITY.uid(), "conveyor.etl")
                .jwt());
    // shaped as the API server's token: the claims a workload reads, and an unsigned header
    String[] parts = jwt.split("\\.");
    assertThat(parts).hasSize(3);
    var claims = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(parts[1]));
    assertThat(claims.path("sub").asText()).isEqualTo("system:serviceaccount:shop:demo-sink");
    assertThat(claims.path("aud").get(0).asText()).isEqualTo("conveyor.etl");
    assertThat(claims.path("kubernetes.io").path("pod").path("name").asText())
        .isEqualTo(IDENTITY.name());
    assertThat(claims.path("kubernetes.io").path("pod").path("uid").asText())
        .isEqualTo(IDENTITY.uid());
    assertThat(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8))
        .contains("\"alg\":\"none\"");
    // the sidecar takes its service account from the token's subject, as from a real one
    assertThat(TokenServiceAccount.of(jwt)).contains("demo-sink");
    // the trust bundle's configMap is optional and was not given: an empty volume, as a kubelet
    // does
    VolumePlan.Files bundle =
        (VolumePlan.Files)
            plan.volumes().stream()
                .filter(v -> v.name().equals("conveyor-trust-bundle"))
                .findFirst()
                .orElseThrow();
    assertThat(bundle.files()).isEmpty();
  }

  @Test
  void probesAreResolvedWithTheKubeletsDefaults() {
    ContainerPlan sidecar = translate(PodFixtures.mutatedDemoSink()).container("conveyor-sidecar");

    assertThat(sidecar.startupProbe())
        .contains(
            new ProbePlan(
                ProbePlan.Kind.HTTP,
                9090,
                "/healthz",
                "",
                Duration.ZERO,
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                60,
                1));
    assertThat(sidecar.readinessProbe().orElseThrow().path()).isEqualTo("/readyz");
    assertThat(sidecar.livenessProbe().orElseThrow().timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(sidecar.fallbackToLogsOnError()).isTrue();
  }

  @Test
  void theAppKeepsItsOwnSpec() {
    ContainerPlan app = translate(PodFixtures.mutatedDemoSink()).container("app");
    JsonNode config = app.config();

    // args replace the image's CMD, after its ENTRYPOINT
    assertThat(texts(config.at("/process/args")))
        .containsExactly("java", "-jar", "/app/conveyor-examples.jar", "sink");
    assertThat(config.at("/process/user/uid").asLong()).isEqualTo(65532);
    assertThat(config.at("/linux/resources/memory/limit").asLong()).isEqualTo(256L << 20);
    assertThat(texts(config.at("/process/env"))).contains("SINK_NAME=demo-sink");
    assertThat(config.at("/linux/seccomp").isMissingNode())
        .as("no seccompProfile: Unconfined")
        .isTrue();
    assertThat(config.at("/process/cwd").asText()).isEqualTo("/");
  }

  @ParameterizedTest(name = "command {0}, args {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "           |           | /entry e1 /cmd c1",
        "/bin/x     |           | /bin/x",
        "/bin/x     | a1 a2     | /bin/x a1 a2",
        "           | a1        | /entry e1 a1",
      })
  void commandReplacesEntrypointAndArgsReplaceCmd(String command, String args, String expected) {
    ImageConfig image =
        new ImageConfig(
            Path.of("/r"), List.of("/entry", "e1"), List.of("/cmd", "c1"), List.of(), "1", "");
    StringBuilder yaml =
        new StringBuilder(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: img\n");
    if (command != null) {
      yaml.append("    command: [").append(String.join(", ", command.split(" "))).append("]\n");
    }
    if (args != null) {
      yaml.append("    args: [").append(String.join(", ", args.split(" "))).append("]\n");
    }
    PodPlan plan =
        new PodTranslator(Map.of("img", image), Map.of())
            .translate(PodFixtures.pod(yaml.toString()), IDENTITY, LAYOUT, "x/p");

    assertThat(texts(plan.container("c").config().at("/process/args")))
        .containsExactly(expected.split(" "));
  }

  @Test
  void envReferencesAreExpandedAsTheKubeletDoes() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                image: img
                command: ["/bin/echo", "$(GREETING) from $(MY_IP)", "$$(GREETING)", "$(UNDEFINED)"]
                env:
                - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                - {name: GREETING, value: "hello at $(MY_IP)"}
                - {name: LATER, value: "$(AFTER)"}
                - {name: AFTER, value: "x"}
            """);
    JsonNode config =
        new PodTranslator(Map.of("img", ROOT_IMAGE), Map.of())
            .translate(pod, IDENTITY, LAYOUT, "x/p")
            .container("c")
            .config();

    assertThat(texts(config.at("/process/args")))
        .containsExactly(
            "/bin/echo", "hello at 198.18.7.9 from 198.18.7.9", "$(GREETING)", "$(UNDEFINED)");
    assertThat(texts(config.at("/process/env")))
        .contains("GREETING=hello at 198.18.7.9", "LATER=$(AFTER)");
  }

  @Test
  void capabilitiesStartFromContainerdsDefaultsAndFollowDropAndAdd() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                image: img
                securityContext:
                  capabilities: {drop: [NET_RAW, CAP_CHOWN], add: [NET_ADMIN]}
                resources:
                  limits: {cpu: 1500m}
            """);
    JsonNode config =
        new PodTranslator(Map.of("img", ROOT_IMAGE), Map.of())
            .translate(pod, IDENTITY, LAYOUT, "x/p")
            .container("c")
            .config();

    List<String> expected = new ArrayList<>(RuntimeDefaults.CAPABILITIES);
    expected.removeAll(List.of("CAP_NET_RAW", "CAP_CHOWN"));
    expected.add("CAP_NET_ADMIN");
    assertThat(texts(config.at("/process/capabilities/bounding")))
        .containsExactlyElementsOf(expected);
    assertThat(config.at("/process/noNewPrivileges").asBoolean()).isFalse();
    assertThat(config.at("/root/readonly").asBoolean()).isFalse();
    assertThat(config.at("/root/path").asText()).isEqualTo(LAYOUT.writableRoot("c").toString());
    assertThat(config.at("/linux/resources/cpu/quota").asLong()).isEqualTo(150_000);
    assertThat(config.at("/linux/resources/cpu/period").asLong()).isEqualTo(100_000);
    // an image without a user runs as root, group 0
    assertThat(config.at("/process/user/uid").asLong()).isZero();
  }

  @Test
  void everyFieldTheRunnerDoesNotHonourIsNamed() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, finalizers: [x]}
            spec:
              hostNetwork: true
              containers:
              - name: a
                image: img
              - name: b
                image: img
                lifecycle:
                  preStop: {exec: {command: [sleep, "1"]}}
                livenessProbe:
                  exec: {command: [true]}
                env:
                - name: S
                  valueFrom: {secretKeyRef: {name: s, key: k}}
                ports:
                - {containerPort: 80, hostPort: 80}
              volumes:
              - name: h
                hostPath: {path: /etc}
            """);

    assertThatThrownBy(() -> translate(pod))
        .isInstanceOf(PodSpecException.class)
        .satisfies(
            e ->
                assertThat(((PodSpecException) e).problems())
                    .containsExactlyInAnyOrder(
                        "metadata.finalizers is not supported by the test runner",
                        "spec.hostNetwork is not supported by the test runner",
                        "spec.containers[1].lifecycle is not supported by the test runner",
                        "spec.containers[1].livenessProbe.exec is not supported by the test runner",
                        "spec.containers[1].env[0].valueFrom.secretKeyRef is not supported by the test runner",
                        "spec.containers[1].ports[0].hostPort is not supported by the test runner",
                        "spec.volumes[0].hostPath is not supported by the test runner"));
  }

  @Test
  void valuesTheRunnerCannotHonourAreRefusedByName() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              securityContext: {runAsNonRoot: true}
              initContainers:
              - {name: i, image: img, restartPolicy: OnFailure}
              containers:
              - name: a
                image: root
                imagePullPolicy: Always
                securityContext: {privileged: true, seccompProfile: {type: Localhost}}
                env:
                - {name: N, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
                readinessProbe:
                  httpGet: {port: admin}
              - {name: b, image: nowhere/unknown:1}
              volumes:
              - name: cm
                configMap: {name: absent}
            """);

    assertThatThrownBy(
            () ->
                new PodTranslator(Map.of("img", EXAMPLES, "root", ROOT_IMAGE), Map.of())
                    .translate(pod, IDENTITY, LAYOUT, "x/p"))
        .isInstanceOf(PodSpecException.class)
        .satisfies(
            e ->
                assertThat(((PodSpecException) e).problems())
                    .containsExactlyInAnyOrder(
                        "spec.volumes[0].configMap: configMap 'absent' was not given to the test runner",
                        "spec.initContainers[0].restartPolicy 'OnFailure' is not Always",
                        "spec.containers[0].imagePullPolicy Always: the test runner never pulls",
                        "spec.containers[0].securityContext.privileged true is not supported by the test runner",
                        "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath 'spec.nodeName' is not supported by the test runner",
                        "spec.containers[0]: container has runAsNonRoot and image will run as root",
                        "spec.containers[0]: seccompProfile type 'Localhost' is not supported by the test runner",
                        "spec.containers[0].readinessProbe: port 'admin' is not a named port of the container",
                        "spec.containers[1].image 'nowhere/unknown:1' was not given to the test runner"));
  }

  @Test
  void aGivenConfigMapIsWrittenAsTheItemsSay() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - {name: c, image: img, volumeMounts: [{name: cm, mountPath: /etc/cm}]}
              volumes:
              - name: cm
                configMap: {name: trust, items: [{key: ca.crt, path: bundle/ca.pem}], defaultMode: 0444}
            """);
    PodPlan plan =
        new PodTranslator(
                Map.of("img", ROOT_IMAGE), Map.of("trust", Map.of("ca.crt", "PEM", "other", "x")))
            .translate(pod, IDENTITY, LAYOUT, "x/p");

    VolumePlan.Files files = (VolumePlan.Files) plan.volumes().get(0);
    assertThat(files.files()).containsOnlyKeys("bundle/ca.pem");
    assertThat(files.mode()).isEqualTo(0444);
    assertThat(texts(mount(plan.container("c").config(), "/etc/cm").path("options")))
        .contains("ro");
  }

  /** The volume the API server's ServiceAccount admission adds to a pod that does not opt out. */
  static final String KUBE_API_ACCESS =
      """
      apiVersion: v1
      kind: Pod
      metadata: {name: p}
      spec:
        serviceAccountName: conveyor-webhook
        containers:
        - name: c
          image: img
          volumeMounts:
          - {name: kube-api-access-x7k2q, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
        volumes:
        - name: kube-api-access-x7k2q
          projected:
            defaultMode: 420
            sources:
            - serviceAccountToken: {expirationSeconds: 3607, path: token}
            - configMap:
                name: kube-root-ca.crt
                items: [{key: ca.crt, path: ca.crt}]
            - downwardAPI:
                items:
                - path: namespace
                  fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}
      """;

  @Test
  void theServiceAccountAdmissionsApiAccessVolumeHoldsTokenClusterCaAndNamespace() {
    PodPlan plan =
        new PodTranslator(
                Map.of("img", ROOT_IMAGE), Map.of("kube-root-ca.crt", Map.of("ca.crt", "CA PEM")))
            .translate(PodFixtures.pod(KUBE_API_ACCESS), IDENTITY, LAYOUT, "x/p");

    VolumePlan.Files files = (VolumePlan.Files) plan.volumes().get(0);
    assertThat(files.files()).containsOnlyKeys("token", "ca.crt", "namespace");
    assertThat(new String(files.files().get("namespace"), StandardCharsets.UTF_8))
        .isEqualTo("shop");
    assertThat(new String(files.files().get("ca.crt"), StandardCharsets.UTF_8)).isEqualTo("CA PEM");
    assertThat(new String(files.files().get("token"), StandardCharsets.UTF_8))
        .isEqualTo(
            new FakeServiceAccountToken(
                    "shop", "conveyor-webhook", IDENTITY.name(), IDENTITY.uid(), "")
                .jwt());
    assertThat(files.mode()).isEqualTo(0644);
  }

  @Test
  void aDownwardApiProjectionTheRunnerCannotFillIsRefusedByName() {
    Pod pod =
        PodFixtures.pod(
            KUBE_API_ACCESS.replace("fieldPath: metadata.namespace", "fieldPath: spec.nodeName"));
    Pod withMode =
        PodFixtures.pod(
            KUBE_API_ACCESS.replace(
                "- path: namespace\n", "- path: namespace\n            mode: 256\n"));

    assertThatThrownBy(
            () ->
                new PodTranslator(
                        Map.of("img", ROOT_IMAGE),
                        Map.of("kube-root-ca.crt", Map.of("ca.crt", "CA PEM")))
                    .translate(pod, IDENTITY, LAYOUT, "x/p"))
        .isInstanceOf(PodSpecException.class)
        .hasMessageContaining(
            "spec.volumes[0].projected.sources[2].downwardAPI.items[0].fieldRef.fieldPath"
                + " 'spec.nodeName' is not supported by the test runner");
    assertThatThrownBy(
            () ->
                new PodTranslator(
                        Map.of("img", ROOT_IMAGE),
                        Map.of("kube-root-ca.crt", Map.of("ca.crt", "CA PEM")))
                    .translate(withMode, IDENTITY, LAYOUT, "x/p"))
        .isInstanceOf(PodSpecException.class)
        .hasMessageContaining(
            "spec.volumes[0].projected.sources[2].downwardAPI.items[0].mode is not supported by the"
                + " test runner");
  }

  @Test
  void withAnApiServerEveryContainerGetsTheKubernetesServiceVariablesAKubeletGives() {
    Pod pod =
        PodFixtures.pod(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                image: img
                env:
                - {name: API, value: "$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"}
                - {name: KUBERNETES_SERVICE_PORT, value: "6443"}
            """);
    PodTranslator translator =
        new PodTranslator(
            Map.of("img", ROOT_IMAGE),
            Map.of(),
            Optional.of(new KubernetesService("198.18.7.1", 40443)),
            PodTranslator.DEFAULT_CLUSTER_DNS);

    List<String> env =
        texts(
            translator
                .translate(pod, IDENTITY, LAYOUT, "x/p")
                .container("c")
                .config()
                .at("/process/env"));

    assertThat(env)
        .contains(
            "KUBERNETES_SERVICE_HOST=198.18.7.1",
            "KUBERNETES_SERVICE_PORT_HTTPS=40443",
            "KUBERNETES_PORT=tcp://198.18.7.1:40443",
            "KUBERNETES_PORT_40443_TCP=tcp://198.18.7.1:40443",
            "KUBERNETES_PORT_40443_TCP_PROTO=tcp",
            "KUBERNETES_PORT_40443_TCP_PORT=40443",
            "KUBERNETES_PORT_40443_TCP_ADDR=198.18.7.1",
            // the container's own value wins; $(VAR) sees the service's, as declared before it
            "API=198.18.7.1:40443",
            "KUBERNETES_SERVICE_PORT=6443");
    assertThat(
            texts(
                new PodTranslator(Map.of("img", ROOT_IMAGE), Map.of())
                    .translate(pod, IDENTITY, LAYOUT, "x/p")
                    .container("c")
                    .config()
                    .at("/process/env")))
        .as("no API server, no variables")
        .noneMatch(e -> e.startsWith("KUBERNETES_SERVICE_HOST="));
  }

  @Test
  void everyContainerGetsTheKubeletsResolvConfNotTheImagesOwn() {
    PodPlan plan = translate(PodFixtures.mutatedDemoSink());

    // A kubelet writes the pod's resolv.conf (dnsPolicy ClusterFirst); there is no cluster DNS
    // here, so it names the pod's own loopback, where nothing answers: a lookup fails at once
    // instead of waiting on whatever resolver the image was built with.
    assertThat(plan.resolvConf())
        .isEqualTo(
            "nameserver 127.0.0.1\n"
                + "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                + "options ndots:5\n");
    for (ContainerPlan c : plan.containers()) {
      assertThat(mount(c.config(), "/etc/resolv.conf").path("source").asText())
          .isEqualTo(LAYOUT.etcResolvConf().toString());
    }
  }

  @Test
  void theResolvConfNamesTheClusterDnsTheRunnerIsGiven() {
    PodPlan plan =
        new PodTranslator(
                Map.of(SIDECAR_IMAGE, SIDECAR, EXAMPLES_IMAGE, EXAMPLES),
                Map.of(),
                Optional.empty(),
                "198.18.7.254")
            .translate(PodFixtures.mutatedDemoSink(), IDENTITY, LAYOUT, "cvp00000/demo-sink");

    assertThat(plan.resolvConf())
        .isEqualTo(
            "nameserver 198.18.7.254\n"
                + "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                + "options ndots:5\n");
    assertThatThrownBy(
            () -> new PodTranslator(Map.of(), Map.of(), Optional.empty(), "dns.cluster.local"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'dns.cluster.local' is not an IP address");
  }
}

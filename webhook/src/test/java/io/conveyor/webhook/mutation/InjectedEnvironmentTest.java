package io.conveyor.webhook.mutation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.contract.SidecarEnvironment.Injection;
import io.conveyor.common.contract.SidecarProfile;
import io.conveyor.sidecar.Sidecar;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.KubeletEnvironment;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The injector and the sidecar agree on the environment contract: a pod freshly mutated by the real
 * {@link PodMutator} is "run" — named, given a UID and an IP as the API server and the kubelet
 * would, its sidecar container's environment resolved as the kubelet does — and that environment is
 * fed to the sidecar's own parser, {@link SidecarConfig#fromEnv}. For the default injection and
 * every override the webhook supports, the sidecar must start with the pod's identity, the router
 * and the ports the webhook configured, and its probes must ask the port it serves health on.
 */
class InjectedEnvironmentTest {

  private static final String POD_IP = "10.244.1.17";
  private static final String HOST_IP = "192.168.0.10";
  private static final String GENERATED_SUFFIX = "x2x8q";

  /** What the sidecar must be configured with. */
  record Expect(
      HostPort router, int grpcPort, int peerPort, int metricsPort, int scanStart, int scanEnd) {}

  /** The webhook's defaults, and the sidecar's own scan range when the pod asks for none. */
  static final Expect DEFAULTS =
      new Expect(
          HostPort.parse("conveyor-router.conveyor-system.svc:50051"),
          9091,
          9096,
          9090,
          50051,
          50060);

  record Case(
      String name,
      Map<String, String> webhookEnv,
      String fixture,
      Map<String, String> annotations,
      String namespace,
      boolean namespaceOptedIn,
      String podIp,
      List<Service> services,
      Expect expect) {

    static Case of(String name, Map<String, String> annotations, Expect expect) {
      return new Case(
          name, Map.of(), "annotated", annotations, "shop", false, POD_IP, List.of(), expect);
    }

    Case withWebhookEnv(Map<String, String> env) {
      return new Case(
          name, env, fixture, annotations, namespace, namespaceOptedIn, podIp, services, expect);
    }

    Case withFixture(String fixture, String namespace, boolean optedIn) {
      return new Case(
          name, webhookEnv, fixture, annotations, namespace, optedIn, podIp, services, expect);
    }

    Case withPodIp(String ip) {
      return new Case(
          name,
          webhookEnv,
          fixture,
          annotations,
          namespace,
          namespaceOptedIn,
          ip,
          services,
          expect);
    }

    Case withServices(List<Service> list) {
      return new Case(
          name, webhookEnv, fixture, annotations, namespace, namespaceOptedIn, podIp, list, expect);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> injections() {
    return Stream.of(
        Case.of("default injection", Map.of(), DEFAULTS),
        Case.of(
            "throughput profile", Map.of(InjectionKeys.SIDECAR_PROFILE, "throughput"), DEFAULTS),
        Case.of("throughput profile for every pod", Map.of(), DEFAULTS)
            .withWebhookEnv(Map.of("SIDECAR_PROFILE", "throughput")),
        Case.of(
                "a pod keeps the compact profile where throughput is the default",
                Map.of(InjectionKeys.SIDECAR_PROFILE, "compact"),
                DEFAULTS)
            .withWebhookEnv(Map.of("SIDECAR_PROFILE", "throughput")),
        Case.of("plain pod in an opted-in namespace", Map.of(), DEFAULTS)
            .withFixture("plain", "shop", true),
        Case.of("dual-stack pod whose primary IP is IPv6", Map.of(), DEFAULTS)
            .withPodIp("fd00:10:244::17"),
        Case.of(
                "namespace whose Services grpc, metrics and conveyor-router define service links",
                Map.of(),
                DEFAULTS)
            .withServices(
                List.of(
                    service("grpc", "10.96.0.12", 50051),
                    service("metrics", "10.96.0.13", 9100),
                    service("conveyor-router", "10.96.0.14", 50051))),
        Case.of(
            "router override",
            Map.of(InjectionKeys.CLUSTER_ENDPOINT, "router.pipelines.svc:7000"),
            new Expect(new HostPort("router.pipelines.svc", 7000), 9091, 9096, 9090, 50051, 50060)),
        Case.of(
            "router override, IPv6",
            Map.of(InjectionKeys.CLUSTER_ENDPOINT, "[fd00::a]:7000"),
            new Expect(new HostPort("fd00::a", 7000), 9091, 9096, 9090, 50051, 50060)),
        Case.of(
            "router override as a gRPC target, padded",
            Map.of(InjectionKeys.CLUSTER_ENDPOINT, " dns:///router.pipelines.svc:7000 "),
            new Expect(new HostPort("router.pipelines.svc", 7000), 9091, 9096, 9090, 50051, 50060)),
        Case.of(
            "gRPC port override",
            Map.of(InjectionKeys.GRPC_PORT, "7091"),
            new Expect(DEFAULTS.router(), 7091, 9096, 9090, 50051, 50060)),
        Case.of(
            "metrics port override",
            Map.of(InjectionKeys.METRICS_PORT, "7090"),
            new Expect(DEFAULTS.router(), 9091, 9096, 7090, 50051, 50060)),
        Case.of(
            "peer port override",
            Map.of(InjectionKeys.PEER_PORT, "7095"),
            new Expect(DEFAULTS.router(), 9091, 7095, 9090, 50051, 50060)),
        Case.of(
            "gRPC and metrics ports swapped",
            Map.of(InjectionKeys.GRPC_PORT, "9090", InjectionKeys.METRICS_PORT, "9091"),
            new Expect(DEFAULTS.router(), 9090, 9096, 9091, 50051, 50060)),
        Case.of(
            "discovery range override",
            Map.of(InjectionKeys.DISCOVERY_PORTS, "6000-6004"),
            new Expect(DEFAULTS.router(), 9091, 9096, 9090, 6000, 6004)),
        Case.of(
            "one-port discovery range",
            Map.of(InjectionKeys.DISCOVERY_PORTS, "6000-6000"),
            new Expect(DEFAULTS.router(), 9091, 9096, 9090, 6000, 6000)),
        Case.of(
            "the widest discovery range",
            Map.of(
                InjectionKeys.DISCOVERY_PORTS,
                "10000-" + (10000 + SidecarEnvironment.MAX_DISCOVERY_PORTS - 1)),
            new Expect(
                DEFAULTS.router(),
                9091,
                9096,
                9090,
                10000,
                10000 + SidecarEnvironment.MAX_DISCOVERY_PORTS - 1)),
        Case.of(
            "regular container mode", Map.of(InjectionKeys.SIDECAR_MODE, "container"), DEFAULTS),
        Case.of(
            "resource overrides",
            Map.of(
                InjectionKeys.CPU_REQUEST, "200m",
                InjectionKeys.CPU_LIMIT, "1",
                InjectionKeys.MEMORY_REQUEST, "128Mi",
                InjectionKeys.MEMORY_LIMIT, "256Mi"),
            DEFAULTS),
        Case.of(
                "every override at once, on a named pod",
                Map.of(),
                new Expect(
                    new HostPort("router.pipelines.svc", 7000), 7091, 7095, 7090, 6000, 6004))
            .withFixture("overrides", "pipelines", false),
        Case.of(
                "the injector configured with its own router, ports and mode",
                Map.of(),
                new Expect(
                    new HostPort("router.example.org", 6000), 8091, 8095, 8090, 50051, 50060))
            .withWebhookEnv(
                Map.of(
                    "CLUSTER_ENDPOINT", "router.example.org:6000",
                    "SIDECAR_GRPC_PORT", "8091",
                    "SIDECAR_PEER_PORT", "8095",
                    "SIDECAR_METRICS_PORT", "8090",
                    "SIDECAR_MODE", "container")));
  }

  @Test
  void theSidecarTrustsOnlyTheRouterIdentityTheInjectorWasGiven() {
    // An installation outside conveyor-system names its operator's service account once, in the
    // injector; every sidecar must then accept that router's certificate and no other.
    Case elsewhere =
        Case.of("installed in pipelines-system", Map.of(), DEFAULTS)
            .withWebhookEnv(Map.of("ROUTER_SERVICE_ACCOUNT", "pipelines-system/conveyor-operator"));
    assertThat(SidecarConfig.fromEnv(inject(elsewhere).env()).routerServiceAccount())
        .hasToString("pipelines-system/conveyor-operator");

    Case installedAsShipped = Case.of("installed as shipped", Map.of(), DEFAULTS);
    assertThat(SidecarConfig.fromEnv(inject(installedAsShipped).env()).routerServiceAccount())
        .hasToString("conveyor-system/conveyor-operator");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("injections")
  void theSidecarStartsWithThePodsIdentityAndWhatTheWebhookConfigured(Case c) {
    Injected injected = inject(c);

    SidecarConfig config = SidecarConfig.fromEnv(injected.env());

    Pod pod = injected.runningPod();
    assertThat(config.podName()).isEqualTo(pod.getMetadata().getName());
    assertThat(config.namespace()).isEqualTo(c.namespace());
    assertThat(config.podUid()).isEqualTo(pod.getMetadata().getUid());
    assertThat(config.podIp()).isEqualTo(c.podIp());
    Container sidecar = injected.container();
    HostPort advertised = HostPort.parse(config.dataPlaneEndpoint());
    assertThat(advertised.host()).as("other sidecars dial the pod's IP").isEqualTo(c.podIp());
    assertThat(sidecar.getPorts())
        .extracting(ContainerPort::getContainerPort)
        .as("on a port the sidecar container declares")
        .contains(advertised.port());
    assertThat(config.clusterEndpoint()).isEqualTo(c.expect().router());
    assertThat(config.grpcPort()).isEqualTo(c.expect().grpcPort());
    assertThat(config.metricsPort()).isEqualTo(c.expect().metricsPort());
    assertThat(config.discoveryStartPort()).isEqualTo(c.expect().scanStart());
    assertThat(config.discoveryEndPort()).isEqualTo(c.expect().scanEnd());

    assertThat(config.serviceAccountTokenFile())
        .as("the sidecar is told where its conveyor.etl token is")
        .contains(Path.of("/var/run/secrets/conveyor.etl/serviceaccount/token"));
    assertThat(projectedFile(pod, sidecar, config.serviceAccountTokenFile().orElseThrow()))
        .as("a projected token for the Conveyor CA, at that path")
        .satisfies(
            source -> {
              assertThat(source.getServiceAccountToken().getAudience()).isEqualTo("conveyor.etl");
              assertThat(source.getServiceAccountToken().getPath()).isEqualTo("token");
            });
    assertThat(config.trustBundleFile())
        .as("the sidecar is told where the trust bundle is")
        .contains(Path.of("/var/run/secrets/conveyor.etl/trust-bundle/ca.crt"));
    assertThat(configMapFile(pod, sidecar, config.trustBundleFile().orElseThrow()))
        .as("the trust bundle ConfigMap's ca.crt, at that path, optional")
        .satisfies(
            configMap -> {
              assertThat(configMap.getName()).isEqualTo("conveyor-trust-bundle");
              assertThat(configMap.getOptional()).isTrue();
              assertThat(configMap.getItems())
                  .extracting(KeyToPath::getKey, KeyToPath::getPath)
                  .containsExactly(
                      tuple("ca.crt", config.trustBundleFile().get().getFileName().toString()));
            });
    assertThat(sidecar.getPorts())
        .extracting(ContainerPort::getName, ContainerPort::getContainerPort)
        .containsExactly(
            tuple("grpc", config.grpcPort()),
            tuple("peer", c.expect().peerPort()),
            tuple("metrics", config.metricsPort()));
    assertThat(injected.env())
        .as("the sidecar is told its peer port, the one the container declares")
        .containsEntry(
            SidecarEnvironment.PEER_PORT.variable(), Integer.toString(c.expect().peerPort()));
    assertThat(
            List.of(
                sidecar.getStartupProbe(), sidecar.getLivenessProbe(), sidecar.getReadinessProbe()))
        .as("the kubelet probes, in plain HTTP, the port the sidecar serves its admin HTTP on")
        .allSatisfy(
            probe -> {
              assertThat(probe.getGrpc()).isNull();
              assertThat(probe.getHttpGet().getScheme()).isEqualTo("HTTP");
              assertThat(probe.getHttpGet().getPort().getIntVal()).isEqualTo(config.metricsPort());
            });
    assertThat(
            List.of(
                sidecar.getStartupProbe(), sidecar.getLivenessProbe(), sidecar.getReadinessProbe()))
        .extracting(probe -> probe.getHttpGet().getPath())
        .as("startup and liveness do not depend on the router; readiness does")
        .containsExactly("/healthz", "/healthz", "/readyz");
  }

  /** The container's variables but the JVM's own ({@link SidecarProfile#JVM_OPTIONS_VARIABLE}). */
  private static List<EnvVar> sidecarVariables(Injected injected) {
    return injected.container().getEnv().stream()
        .filter(v -> !v.getName().equals(SidecarProfile.JVM_OPTIONS_VARIABLE))
        .toList();
  }

  /**
   * The one variable that is the JVM's, not the sidecar's: the pod's profile, as an argfile the
   * image ships (the image copies {@code sidecar/profiles/}; ImagesTest compares the copies).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("injections")
  void theJvmIsGivenTheProfilesArgfileFromTheImage(Case c) throws IOException {
    Injected injected = inject(c);
    SidecarProfile expected =
        SidecarProfile.parse(
                injected
                    .runningPod()
                    .getMetadata()
                    .getAnnotations()
                    .getOrDefault(
                        InjectionKeys.SIDECAR_PROFILE,
                        c.webhookEnv().getOrDefault("SIDECAR_PROFILE", "compact")))
            .orElseThrow();
    List<EnvVar> jvm =
        injected.container().getEnv().stream()
            .filter(v -> v.getName().equals(SidecarProfile.JVM_OPTIONS_VARIABLE))
            .toList();

    assertThat(jvm).hasSize(1);
    assertThat(jvm.get(0).getValue())
        .isEqualTo("@" + SidecarProfile.IMAGE_FOLDER + "/" + expected.fileName());
    Path argfile = Path.of("..", "sidecar", "profiles", expected.fileName());
    assertThat(Files.readAllLines(argfile))
        .as("%s holds JVM flags", argfile)
        .anySatisfy(line -> assertThat(line).startsWith("-XX:"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("injections")
  void everyInjectedVariableIsOneTheSidecarReads(Case c) {
    Injected injected = inject(c);
    // A fixed id: without one the sidecar draws a random id at every parse, and two parses of one
    // environment would never compare equal, whatever the variable changed.
    Map<String, String> env = new HashMap<>(injected.env());
    env.put(SidecarEnvironment.SIDECAR_ID.variable(), "sc-fixed");
    SidecarConfig config = SidecarConfig.fromEnv(env);
    assertThat(SidecarConfig.fromEnv(env))
        .as("one environment, one configuration")
        .isEqualTo(config);

    for (EnvVar variable : sidecarVariables(injected)) {
      String name = variable.getName();
      assertThat(SidecarEnvironment.named(name))
          .as("%s is a variable of the sidecar's contract", name)
          .isPresent();
      // The sidecar reads a variable if another value changes its configuration or is refused
      // with the variable named; "~" is valid for no variable but a free-form one such as POD_UID.
      Map<String, String> changed = new HashMap<>(env);
      changed.put(name, "~");
      ConfigException refused =
          catchThrowableOfType(ConfigException.class, () -> SidecarConfig.fromEnv(changed));
      if (refused != null) {
        assertThat(refused.problems()).anySatisfy(p -> assertThat(p).startsWith(name + "='~'"));
      } else {
        assertThat(SidecarConfig.fromEnv(changed))
            .as("the sidecar reads %s", name)
            .isNotEqualTo(config);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("injections")
  void everyVariableTheContractRequiresFromTheInjectorIsInjected(Case c) {
    Injected injected = inject(c);
    assertThat(injected.container().getEnv().stream().map(EnvVar::getName))
        .as("each variable once")
        .doesNotHaveDuplicates();
    List<EnvVar> env = sidecarVariables(injected);
    List<String> names = env.stream().map(EnvVar::getName).toList();

    assertThat(names)
        .containsAll(
            SidecarEnvironment.requiredFromInjector().stream()
                .map(SidecarEnvironment::variable)
                .toList());
    for (EnvVar variable : env) {
      SidecarEnvironment declared = SidecarEnvironment.named(variable.getName()).orElseThrow();
      assertThat(declared.injection())
          .as("%s is one the contract says the injector gives", declared)
          .isNotEqualTo(Injection.NOT_INJECTED);
      Optional<String> fieldPath =
          Optional.ofNullable(variable.getValueFrom()).map(v -> v.getFieldRef().getFieldPath());
      assertThat(fieldPath)
          .as("%s comes from the pod field the contract names", declared)
          .isEqualTo(declared.downwardApiField());
    }
    boolean askedForARange =
        injected
            .runningPod()
            .getMetadata()
            .getAnnotations()
            .containsKey(InjectionKeys.DISCOVERY_PORTS);
    assertThat(
            names.containsAll(
                List.of(
                    SidecarEnvironment.DISCOVERY_START_PORT.variable(),
                    SidecarEnvironment.DISCOVERY_END_PORT.variable())))
        .as("the scan range is injected exactly when the pod asks for one")
        .isEqualTo(askedForARange);
  }

  /**
   * The injected probes asked of a real sidecar, started with the injected environment, as the
   * kubelet asks them: a plain HTTP GET of the probe's path on the pod IP and the probe's port,
   * within its timeout, success being a status from 200 to 399. With its router out of reach the
   * sidecar must pass startup and liveness (they do not depend on the router; failing them would
   * restart it) and fail readiness (it is not registered). Loopback stands in for the pod IP.
   */
  @Test
  void theInjectedProbesAskWhatARealSidecarServes() throws Exception {
    int nobody = freePort();
    Case c =
        Case.of(
                "probes",
                Map.of(
                    InjectionKeys.GRPC_PORT, Integer.toString(freePort()),
                    InjectionKeys.PEER_PORT, Integer.toString(freePort()),
                    InjectionKeys.METRICS_PORT, Integer.toString(freePort()),
                    InjectionKeys.CLUSTER_ENDPOINT, "127.0.0.1:" + nobody,
                    InjectionKeys.DISCOVERY_PORTS, nobody + "-" + nobody),
                DEFAULTS)
            .withPodIp("127.0.0.1");
    Injected injected = inject(c);
    Map<String, String> env = new HashMap<>(injected.env());
    env.put(SidecarEnvironment.BIND_ADDRESS.variable(), "127.0.0.1");
    Container container = injected.container();
    HttpClient kubelet = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    try (Sidecar sidecar = Sidecar.start(SidecarConfig.fromEnv(env))) {
      assertThat(status(kubelet, c.podIp(), container.getStartupProbe()))
          .as("startup")
          .isBetween(200, 399);
      assertThat(status(kubelet, c.podIp(), container.getLivenessProbe()))
          .as("liveness")
          .isBetween(200, 399);
      assertThat(status(kubelet, c.podIp(), container.getReadinessProbe()))
          .as("readiness while not registered with the router")
          .isEqualTo(503);
      assertThat(sidecar.isRegistered()).isFalse();
    }
  }

  private static int status(HttpClient kubelet, String podIp, Probe probe) throws Exception {
    HTTPGetAction get = probe.getHttpGet();
    URI uri =
        URI.create(
            get.getScheme().toLowerCase(Locale.ROOT)
                + "://"
                + podIp
                + ":"
                + get.getPort().getIntVal()
                + get.getPath());
    return kubelet
        .send(
            HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(probe.getTimeoutSeconds()))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * A scan range the webhook admits is one the sidecar accepts; a wider one is denied at admission
   * with the limit named, instead of admitting a pod whose sidecar refuses to start.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"1-4096", "61440-65535", "1-4097", "50051-60000", "1-65535", "65535-65535"})
  void aDiscoveryRangeTheWebhookAdmitsIsOneTheSidecarScans(String range) {
    PortRange asked = PortRange.parse(range);
    Case c = Case.of(range, Map.of(InjectionKeys.DISCOVERY_PORTS, range), DEFAULTS);
    MutationOutcome outcome = mutate(c);

    if (outcome instanceof MutationOutcome.Injected) {
      // What was admitted must start: this throws the sidecar's own refusal if it would not.
      SidecarConfig config = SidecarConfig.fromEnv(inject(c).env());
      assertThat(config.discoveryStartPort()).isEqualTo(asked.start());
      assertThat(config.discoveryEndPort()).isEqualTo(asked.end());
    }
    if (asked.end() - asked.start() + 1 <= SidecarEnvironment.MAX_DISCOVERY_PORTS) {
      assertThat(outcome).isInstanceOf(MutationOutcome.Injected.class);
    } else {
      assertThat(outcome)
          .isInstanceOfSatisfying(
              MutationOutcome.Denied.class,
              denied ->
                  assertThat(denied.message())
                      .contains(InjectionKeys.DISCOVERY_PORTS + "='" + range + "'")
                      .contains("at most " + SidecarEnvironment.MAX_DISCOVERY_PORTS));
    }
  }

  /** The mutated pod as it runs, its sidecar container and that container's environment. */
  record Injected(Pod runningPod, Container container, Map<String, String> env) {}

  private static MutationOutcome mutate(Case c) {
    PodMutator mutator = new PodMutator(Fixtures.config(c.webhookEnv()).sidecar());
    Pod pod = Fixtures.pod(Fixtures.rawPod(c.fixture(), c.annotations()));
    return mutator.mutate(pod, new AdmissionTarget(c.namespace(), c.namespaceOptedIn()));
  }

  private static Injected inject(Case c) {
    MutationOutcome outcome = mutate(c);
    assertThat(outcome).as(c.name()).isInstanceOf(MutationOutcome.Injected.class);
    Pod running = running(((MutationOutcome.Injected) outcome).pod(), c);
    Container sidecar =
        Stream.concat(
                running.getSpec().getInitContainers().stream(),
                running.getSpec().getContainers().stream())
            .filter(container -> InjectionKeys.SIDECAR_CONTAINER.equals(container.getName()))
            .findFirst()
            .orElseThrow();
    return new Injected(
        running, sidecar, KubeletEnvironment.resolve(running, sidecar, c.services()));
  }

  /**
   * The admitted pod once created and scheduled: the API server names a pod made from {@code
   * generateName} and gives it a UID; the kubelet knows its node, host IP and pod IP.
   */
  private static Pod running(Pod admitted, Case c) {
    String name =
        admitted.getMetadata().getName() != null
            ? admitted.getMetadata().getName()
            : admitted.getMetadata().getGenerateName() + GENERATED_SUFFIX;
    return new PodBuilder(admitted)
        .editMetadata()
        .withName(name)
        .withNamespace(c.namespace())
        .withUid(UUID.randomUUID().toString())
        .endMetadata()
        .editSpec()
        .withNodeName("node-1")
        .endSpec()
        .withNewStatus()
        .withPhase("Pending")
        .withHostIP(HOST_IP)
        .withPodIP(c.podIp())
        .addNewPodIP(c.podIp())
        .endStatus()
        .build();
  }

  /** The read-only mount of {@code container} whose directory holds {@code file}. */
  private static Volume mountedVolumeHolding(Pod pod, Container container, Path file) {
    VolumeMount mount =
        container.getVolumeMounts().stream()
            .filter(m -> Path.of(m.getMountPath()).equals(file.getParent()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("nothing is mounted at " + file.getParent()));
    assertThat(mount.getReadOnly()).as("%s is mounted read-only", file).isTrue();
    assertThat(mount.getSubPath()).as("no subPath: the kubelet updates the file").isNull();
    return pod.getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(mount.getName()))
        .findFirst()
        .orElseThrow();
  }

  private static VolumeProjection projectedFile(Pod pod, Container container, Path file) {
    Volume volume = mountedVolumeHolding(pod, container, file);
    assertThat(volume.getProjected()).as(volume.getName() + " is projected").isNotNull();
    return volume.getProjected().getSources().stream()
        .filter(
            s ->
                s.getServiceAccountToken() != null
                    && s.getServiceAccountToken().getPath().equals(file.getFileName().toString()))
        .findFirst()
        .orElseThrow(() -> new AssertionError(volume.getName() + " projects no " + file));
  }

  private static ConfigMapVolumeSource configMapFile(Pod pod, Container container, Path file) {
    Volume volume = mountedVolumeHolding(pod, container, file);
    assertThat(volume.getConfigMap()).as(volume.getName() + " is a ConfigMap").isNotNull();
    return volume.getConfigMap();
  }

  private static Service service(String name, String clusterIp, int port) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withClusterIP(clusterIp)
        .addNewPort()
        .withPort(port)
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }
}

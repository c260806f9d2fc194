package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.KubernetesClients;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.podtest.PodFixtures;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.cluster.MockApiServer;
import io.conveyor.podtest.cluster.ProjectImages;
import io.conveyor.podtest.spec.FakeServiceAccountToken;
import io.conveyor.router.core.RouterSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 13, scenario 1: the demo source and the demo sink, each a pod of the examples image as its
 * Deployment makes it, mutated by the webhook's real handler, with the injected sidecar from the
 * real sidecar image, run under runc. The control plane is the operator as in a cluster (its
 * router, its CA, enrolment by TokenReview) in this JVM, listening on the pod bridge's host side,
 * against the fabric8 mock API server holding the pods, the Pipeline and the trust bundle ConfigMap
 * the operator publishes. Each sidecar discovers its app on the pod's own loopback in the injected
 * default port range, enrols with the pod's projected token, registers with its pod IP; the
 * source's records cross pod IPs over mutual TLS and the sink counts them.
 *
 * <p>What differs from a cluster: the API server is fabric8's mock, whose TokenReview answer is
 * registered per pod here for the runner's unsigned token; CLUSTER_ENDPOINT is the bridge's IP and
 * port (no cluster DNS, no Service); the kubelet is the runner.
 */
@Tag(PodsTier.TAG)
class SourceToSinkPodsTest {

  private static final String NS = "shop";
  private static final long RECORDS = 20_000;
  private static final Duration START = Duration.ofSeconds(180);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger log = LoggerFactory.getLogger(SourceToSinkPodsTest.class);

  @Test
  void theSourcePodsRecordsReachTheSinkPodThroughTheInjectedSidecars() throws Exception {
    PodsTier.require();
    Path sidecarImage = ProjectImages.require("conveyor-sidecar");
    Path examplesImage = ProjectImages.require("conveyor-examples");
    try (MockApiServer api = new MockApiServer(Path.of("..", "crds"));
        PodHost host = PodHost.start(RunSettings.kubeletDefaults())) {
      host.image(ProjectImages.name("conveyor-sidecar"), sidecarImage);
      host.image(ProjectImages.name("conveyor-examples"), examplesImage);
      KubernetesClient operatorClient = KubernetesClients.create(api.client().getConfiguration());
      ConveyorOperator operator =
          new ConveyorOperator(
                  operatorConfig(host.hostAddress()),
                  operatorClient,
                  new SimpleMeterRegistry(),
                  Clock.systemUTC(),
                  () -> NettyServerBuilder.forAddress(new InetSocketAddress(host.hostAddress(), 0)))
              .start();
      try {
        await().atMost(Duration.ofSeconds(60)).until(operator::serving);
        // No cluster DNS: the webhook's own setting points the sidecars at the router's address.
        Map<String, String> webhookEnv =
            Map.of(
                "CLUSTER_ENDPOINT", host.hostAddress() + ":" + operator.routerPort().orElseThrow());
        try (InputStream pipeline =
            getClass().getResourceAsStream("/deploy/pipeline-source-to-sink.yaml")) {
          api.client().load(pipeline).inNamespace(NS).create();
        }
        Pod sink = admitted(api, "/deploy/demo-sink.yaml", webhookEnv);
        Pod source = admitted(api, "/deploy/demo-source.yaml", webhookEnv);
        // The trust bundle is the operator's: published from its CA into the pods' namespace.
        ConfigMap bundle =
            await()
                .atMost(Duration.ofSeconds(60))
                .until(
                    () ->
                        api.client()
                            .configMaps()
                            .inNamespace(NS)
                            .withName("conveyor-trust-bundle")
                            .get(),
                    cm -> cm != null && cm.getData() != null && cm.getData().containsKey("ca.crt"));
        Map<String, Map<String, String>> configMaps =
            Map.of("conveyor-trust-bundle", bundle.getData());

        RunningPod sinkPod = host.run(sink, NS, configMaps);
        RunningPod sourcePod = host.run(source, NS, configMaps);
        try {
          deliver(api, operator, sinkPod, sourcePod);
        } catch (AssertionError | RuntimeException e) {
          // What the pods said is the first thing to read when this fails.
          throw new AssertionError(e.getMessage() + tails(sinkPod, sourcePod), e);
        }
      } finally {
        operator.close(Duration.ofSeconds(10));
        operatorClient.close();
      }
    }
  }

  private static void deliver(
      MockApiServer api, ConveyorOperator operator, RunningPod sinkPod, RunningPod sourcePod)
      throws Exception {
    running(api, sinkPod);
    running(api, sourcePod);

    await().atMost(START).until(() -> sinkPod.ready() && sourcePod.ready());
    // The source's own account: every record acknowledged (done), none failed.
    String sourceLog =
        await()
            .atMost(START)
            .until(
                () -> sourcePod.log("app"),
                log ->
                    log.contains("demo-source: done") || log.contains("demo-source: incomplete"));
    assertThat(sourceLog)
        .contains("demo-source: done produced=" + RECORDS)
        .containsPattern("demo-source: done .* failed=0 in_flight=0");
    log.info(
        "source pod {}: {}",
        sourcePod.name(),
        sourceLog.lines().filter(l -> l.startsWith("demo-source: done")).findFirst().orElse(""));
    JsonNode stats = sinkStats(sinkPod);
    log.info("sink pod {} /stats: {}", sinkPod.name(), stats);
    assertThat(stats.path("delivered").asLong()).as(stats.toString()).isEqualTo(RECORDS);
    assertThat(stats.path("lost").asLong(-1)).as(stats.toString()).isZero();
    assertThat(stats.path("beyond_sent").asLong(-1)).as(stats.toString()).isZero();
    // Each sidecar enrolled and registered once, over the pod IPs it was given.
    assertThat(sinkPod.status("conveyor-sidecar").restartCount()).isZero();
    assertThat(sourcePod.status("conveyor-sidecar").restartCount()).isZero();
    var core = operator.routerCore().orElseThrow();
    assertThat(
            core.sidecars().stream()
                .map(r -> r.podName() + "@" + r.podIp() + " " + r.workloadIdentity())
                .toList())
        .containsExactlyInAnyOrder(
            sinkPod.name() + "@" + sinkPod.ip() + " " + identity(sinkPod, "demo-sink"),
            sourcePod.name() + "@" + sourcePod.ip() + " " + identity(sourcePod, "demo-source"));
  }

  private static String tails(RunningPod... pods) {
    StringBuilder out = new StringBuilder();
    for (RunningPod pod : pods) {
      out.append("\n--- pod ").append(pod.name()).append(" events: ").append(pod.events());
      for (String container : new String[] {"conveyor-sidecar", "app"}) {
        String log = pod.log(container);
        out.append("\n--- ")
            .append(pod.name())
            .append('/')
            .append(container)
            .append(" (last 4000 chars):\n")
            .append(log.substring(Math.max(0, log.length() - 4000)));
      }
    }
    return out.toString();
  }

  private static String identity(RunningPod pod, String account) {
    return "spiffe://conveyor.etl/ns/" + NS + "/pod/" + pod.name() + "/sa/" + account;
  }

  private static OperatorConfig operatorConfig(String bindAddress) {
    return new OperatorConfig(
        "conveyor-operator-0",
        "conveyor-system",
        "conveyor-operator-leader",
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        bindAddress,
        0,
        0,
        Set.of(),
        4,
        Duration.ZERO,
        Duration.ofMinutes(5),
        RouterSettings.defaults(),
        true);
  }

  /**
   * The Deployment's pod as the API server stores it after admission: named from generateName,
   * given a uid, mutated by the webhook. The review of its projected token is registered with the
   * API server (the runner's token names the pod, so it is known before the pod runs).
   */
  private static Pod admitted(MockApiServer api, String deployment, Map<String, String> env) {
    Pod mutated = PodFixtures.mutated(PodFixtures.replicaSetPod(deployment), NS, env);
    String name =
        mutated.getMetadata().getGenerateName()
            + Long.toString(System.nanoTime() & 0xfffff, 36).toLowerCase();
    mutated.getMetadata().setName(name);
    mutated.getMetadata().setNamespace(NS);
    mutated.getMetadata().setUid(UUID.randomUUID().toString());
    Pod stored = api.client().pods().inNamespace(NS).resource(mutated).create();
    String account = stored.getSpec().getServiceAccountName();
    String uid = stored.getMetadata().getUid();
    api.bindToken(
        new FakeServiceAccountToken(NS, account, name, uid, "conveyor.etl").jwt(),
        NS,
        account,
        name,
        uid);
    return new PodBuilder(mutated)
        .editMetadata()
        .withUid(stored.getMetadata().getUid())
        .withGenerateName(null)
        .endMetadata()
        .build();
  }

  /** What the kubelet reports once the pod runs: its phase and IP. */
  private static void running(MockApiServer api, RunningPod running) {
    Pod stored = api.client().pods().inNamespace(NS).withName(running.name()).get();
    stored.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase("Running")
            .withPodIP(running.ip())
            .build());
    api.client().pods().inNamespace(NS).resource(stored).updateStatus();
  }

  private static JsonNode sinkStats(RunningPod sink) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + sink.ip()
                            + ":9103/stats?sent="
                            + RECORDS
                            + "&source=demo-source&filter_period=0"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }
}

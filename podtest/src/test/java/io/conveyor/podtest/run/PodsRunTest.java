package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.conveyor.podtest.PodFixtures;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.TestImages;
import io.conveyor.podtest.spec.PodSpecException;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pods run for real: runc containers from a docker-save busybox image, each pod its own network
 * namespace on the test bridge. What each test shows is read back from inside the container (its
 * log), from the runner's status (exit codes, OOMKilled, restarts) or from the host.
 */
@Tag(PodsTier.TAG)
class PodsRunTest {

  static final String BUSYBOX = "podtest/busybox:1";
  static final Duration AT_MOST = Duration.ofSeconds(60);

  @TempDir static Path images;
  static PodHost host;

  @BeforeAll
  static void start() throws IOException {
    PodsTier.require();
    host = PodHost.start(RunSettings.kubeletDefaults().withRestartBackoff(Duration.ofSeconds(1)));
    host.image(
        BUSYBOX,
        TestImages.busybox(images.resolve("busybox.tar"), List.of(), List.of("/bin/sh"), ""));
  }

  @AfterAll
  static void stop() {
    if (host != null) {
      host.close();
    }
  }

  /**
   * A shell function fetching a page over plain TCP: busybox's wget crashes (SIGSEGV) on a refused
   * connection, its nc reports it and exits 1.
   */
  static final String GET =
      "get() { printf \"GET /index.html HTTP/1.0\\r\\n\\r\\n\" | nc -w 3 $1 $2; }";

  static Pod pod(String yaml) {
    return PodFixtures.pod(yaml.replace("IMAGE", BUSYBOX).replace("'GET;", "'" + GET + ";"));
  }

  static RunningPod run(String yaml) throws IOException {
    return host.run(pod(yaml), "shop", Map.of());
  }

  static void awaitLog(RunningPod pod, String container, String text) {
    await("log of " + container + " to contain " + text)
        .atMost(AT_MOST)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertThat(pod.log(container)).contains(text));
  }

  @Test
  void envDownwardApiUserAndGroupReachTheProcess() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {generateName: env-}
            spec:
              terminationGracePeriodSeconds: 1
              serviceAccountName: reader
              containers:
              - name: c
                image: IMAGE
                command: [/bin/sh, -c, 'echo "ids=$(id -u):$(id -g)"; env | sort; echo done; sleep 600']
                securityContext: {runAsUser: 1234, runAsGroup: 5678}
                env:
                - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
                - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
                - {name: ACCOUNT, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
                - {name: GREETING, value: "hello $(POD_NAME)"}
            """)) {
      awaitLog(pod, "c", "done");
      String log = pod.log("c");
      assertThat(log)
          .contains("ids=1234:5678")
          .contains("POD_NAME=" + pod.name())
          .contains("NAMESPACE=shop")
          .contains("POD_IP=" + pod.ip())
          .contains("POD_UID=" + pod.plan().identity().uid())
          .contains("ACCOUNT=reader")
          .contains("GREETING=hello " + pod.name())
          .contains("HOSTNAME=" + pod.name());
      assertThat(pod.name()).startsWith("env-").hasSize("env-".length() + 5);
    }
  }

  @Test
  void theRootIsReadOnlyTmpIsWritableAndDroppedCapabilitiesAreGone() throws IOException {
    String script =
        "touch /x 2>/dev/null && echo root-write=ok || echo root-write=refused;"
            + " touch /tmp/$0 && echo tmp-write=ok || echo tmp-write=refused;"
            + " chown 1 /tmp/$0 2>/dev/null && echo chown=ok || echo chown=refused;"
            + " grep CapBnd /proc/self/status; echo done; sleep 600";
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: caps}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: locked
                image: IMAGE
                command: [/bin/sh, -c, 'SCRIPT', locked]
                securityContext:
                  runAsUser: 0
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  capabilities: {drop: [ALL]}
                volumeMounts: [{name: tmp, mountPath: /tmp}]
              - name: open
                image: IMAGE
                command: [/bin/sh, -c, 'SCRIPT', open]
                securityContext: {runAsUser: 0}
                volumeMounts: [{name: tmp, mountPath: /tmp}]
              volumes:
              - {name: tmp, emptyDir: {}}
            """
                .replace("SCRIPT", script))) {
      awaitLog(pod, "locked", "done");
      awaitLog(pod, "open", "done");
      assertThat(pod.log("locked"))
          .contains("root-write=refused", "tmp-write=ok", "chown=refused")
          .containsPattern("CapBnd:\\s+0000000000000000");
      // the same commands with the runtime's defaults: the checks above can fail
      assertThat(pod.log("open"))
          .contains("root-write=ok", "tmp-write=ok", "chown=ok")
          .containsPattern("CapBnd:\\s+00000000a80425fb");
    }
  }

  @Test
  void aProcessOverItsMemoryLimitIsOomKilledAndReportedSo() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: oom}
            spec:
              terminationGracePeriodSeconds: 1
              restartPolicy: Never
              containers:
              - name: hog
                image: IMAGE
                command: [/bin/dd, if=/dev/zero, of=/dev/null, bs=64M, count=1]
                resources: {limits: {memory: 16Mi}}
              - name: fails
                image: IMAGE
                command: [/bin/sh, -c, 'echo "it went wrong"; exit 3']
                terminationMessagePolicy: FallbackToLogsOnError
              - name: fits
                image: IMAGE
                command: [/bin/dd, if=/dev/zero, of=/dev/null, bs=4M, count=1]
                resources: {limits: {memory: 16Mi}}
            """)) {
      await()
          .atMost(AT_MOST)
          .until(
              () ->
                  List.of("hog", "fails", "fits").stream()
                      .allMatch(c -> pod.status(c).lastTermination().isPresent()));
      assertThat(pod.status("hog").lastTermination().orElseThrow())
          .isEqualTo(new Termination(137, "OOMKilled", ""));
      Termination failed = pod.status("fails").lastTermination().orElseThrow();
      assertThat(failed.exitCode()).isEqualTo(3);
      assertThat(failed.reason()).isEqualTo("Error");
      assertThat(failed.message()).contains("it went wrong");
      assertThat(pod.status("fits").lastTermination().orElseThrow())
          .isEqualTo(new Termination(0, "Completed", ""));
      assertThat(pod.status("hog").restartCount()).as("restartPolicy Never").isZero();
    }
  }

  @Test
  void podsTalkOverTheirPodIpsTheHostReachesThemAndEachLoopbackIsItsOwn() throws Exception {
    try (RunningPod a =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: server}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: web
                image: IMAGE
                command: [/bin/sh, -c, 'mkdir -p /tmp/pub /tmp/lo; echo hello-from-$POD_NAME > /tmp/pub/index.html; echo loopback-secret > /tmp/lo/index.html; httpd -p 127.0.0.1:8081 -h /tmp/lo; exec httpd -f -p 8080 -h /tmp/pub']
                env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                ports: [{name: http, containerPort: 8080}]
                readinessProbe:
                  httpGet: {path: /index.html, port: http}
                  periodSeconds: 1
                volumeMounts: [{name: tmp, mountPath: /tmp}]
              - name: neighbour
                image: IMAGE
                command: [/bin/sh, -c, 'GET; until out=$(get 127.0.0.1 8081) && echo "$out" | grep -q secret; do sleep 0.2; done; echo "$out"; echo done; sleep 600']
              volumes:
              - {name: tmp, emptyDir: {}}
            """)) {
      await().atMost(AT_MOST).until(a::ready);
      // another container of the same pod shares its loopback
      awaitLog(a, "neighbour", "loopback-secret");

      HttpResponse<String> fromHost =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://" + a.ip() + ":8080/index.html"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(fromHost.body()).isEqualTo("hello-from-server\n");

      String other =
          """
          apiVersion: v1
          kind: Pod
          metadata: {name: client}
          spec:
            terminationGracePeriodSeconds: 1
            containers:
            - name: c
              image: IMAGE
              command: [/bin/sh, -c, 'GET; get SERVER 8080; get 127.0.0.1 8081 && echo loopback-reached || echo loopback-refused; echo done; sleep 600']
          """
              .replace("SERVER", a.ip());
      try (RunningPod b = run(other)) {
        awaitLog(b, "c", "done");
        assertThat(b.ip()).isNotEqualTo(a.ip());
        assertThat(b.log("c"))
            .contains("hello-from-server", "loopback-refused")
            .doesNotContain("loopback-secret");
      }
    }
  }

  @Test
  void aKilledContainerIsRestartedUnderItsRestartPolicy() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: restart}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: IMAGE
                command: [/bin/sh, -c, 'echo started; exec sleep 600']
            """)) {
      awaitLog(pod, "c", "started");
      assertThat(pod.status("c").running()).isTrue();

      pod.signal("c", "KILL");

      await()
          .atMost(AT_MOST)
          .untilAsserted(
              () -> {
                ContainerStatus status = pod.status("c");
                assertThat(status.restartCount()).isEqualTo(1);
                assertThat(status.running()).isTrue();
                assertThat(status.lastTermination()).contains(new Termination(137, "Error", ""));
              });
      awaitLog(pod, "c", "started\nstarted\n");
    }
  }

  @Test
  void anInitContainerCompletesFirstAndATcpReadinessProbeGatesReadiness() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: init}
            spec:
              terminationGracePeriodSeconds: 1
              initContainers:
              - name: prepare
                image: IMAGE
                command: [/bin/sh, -c, 'echo prepared-by-init > /shared/note']
                volumeMounts: [{name: shared, mountPath: /shared}]
              containers:
              - name: c
                image: IMAGE
                command: [/bin/sh, -c, 'cat /shared/note; sleep 2; echo listening; exec httpd -f -p 7000 -h /shared']
                readinessProbe:
                  tcpSocket: {port: 7000}
                  periodSeconds: 1
                volumeMounts: [{name: shared, mountPath: /shared}]
              volumes:
              - {name: shared, emptyDir: {}}
            """)) {
      assertThat(pod.status("prepare").lastTermination())
          .contains(new Termination(0, "Completed", ""));
      assertThat(pod.status("prepare").restartCount()).isZero();
      awaitLog(pod, "c", "prepared-by-init");
      assertThat(pod.ready()).as("nothing listens on 7000 yet").isFalse();
      await().atMost(AT_MOST).until(pod::ready);
      assertThat(pod.log("c")).contains("listening");
    }
  }

  @Test
  void aFailingLivenessProbeRestartsTheContainer() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: liveness}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: IMAGE
                command: [/bin/sh, -c, 'echo started; exec sleep 600']
                livenessProbe:
                  httpGet: {path: /healthz, port: 8080}
                  periodSeconds: 1
                  failureThreshold: 2
            """)) {
      await()
          .atMost(AT_MOST)
          .untilAsserted(
              () -> assertThat(pod.status("c").restartCount()).isGreaterThanOrEqualTo(1));
      assertThat(pod.events())
          .anyMatch(e -> e.contains("killing c: liveness probe failed 2 times"));
      assertThat(pod.status("c").lastTermination().orElseThrow().exitCode()).isEqualTo(137);
    }
  }

  @Test
  void anEmptyDirOverItsSizeLimitEvictsThePod() throws IOException {
    try (RunningPod pod =
        run(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: evicted}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: IMAGE
                command: [/bin/sh, -c, 'dd if=/dev/zero of=/scratch/fill bs=1M count=3; echo filled; sleep 600']
                volumeMounts: [{name: scratch, mountPath: /scratch}]
              volumes:
              - {name: scratch, emptyDir: {sizeLimit: 2Mi}}
            """)) {
      await().atMost(AT_MOST).until(() -> pod.failure().isPresent());
      assertThat(pod.failure().orElseThrow())
          .isEqualTo("Evicted: emptyDir scratch uses 3145728 bytes, over its sizeLimit of 2097152");
      await().atMost(AT_MOST).until(() -> !pod.status("c").running());
      assertThat(pod.ready()).isFalse();
      assertThat(pod.status("c").restartCount()).as("an evicted pod is not restarted").isZero();
    }
  }

  @Test
  void aFieldTheRunnerDoesNotHonourStopsThePodBeforeAnythingRuns() {
    assertThatThrownBy(
            () ->
                run(
                    """
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: refused}
                    spec:
                      terminationGracePeriodSeconds: 1
                      containers:
                      - name: c
                        image: IMAGE
                        lifecycle: {preStop: {exec: {command: [/bin/true]}}}
                    """))
        .isInstanceOf(PodSpecException.class)
        .hasMessage("spec.containers[0].lifecycle is not supported by the test runner");
  }
}

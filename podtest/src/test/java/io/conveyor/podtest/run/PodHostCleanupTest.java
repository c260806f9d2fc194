package io.conveyor.podtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.podtest.PodFixtures;
import io.conveyor.podtest.PodsTier;
import io.conveyor.podtest.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing of a run outlives it: not after close(), and not after a run that was killed. */
@Tag(PodsTier.TAG)
class PodHostCleanupTest {

  @TempDir Path dir;

  private static List<String> traces(String prefix) throws Exception {
    List<String> found = new java.util.ArrayList<>();
    Leftovers.netns().stream()
        .filter(n -> n.startsWith(prefix))
        .forEach(n -> found.add("netns " + n));
    Leftovers.links().stream()
        .filter(n -> n.startsWith(prefix))
        .forEach(n -> found.add("link " + n));
    Leftovers.runcIds().stream()
        .filter(n -> n.startsWith(prefix))
        .forEach(n -> found.add("runc " + n));
    try (var controllers = Files.list(Leftovers.CGROUPS)) {
      controllers
          .map(c -> c.resolve(prefix))
          .filter(Files::exists)
          .forEach(c -> found.add("cgroup " + c));
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      if (line.contains("/" + prefix + "/")) {
        found.add("mount " + line);
      }
    }
    if (Files.exists(RunSettings.kubeletDefaults().workRoot().resolve(prefix))) {
      found.add("dir " + prefix);
    }
    if (Files.exists(Leftovers.REGISTRY.resolve(prefix + ".pid"))) {
      found.add("registration " + prefix);
    }
    return found;
  }

  @Test
  void closeLeavesNothingOfTheRun() throws Exception {
    PodsTier.require();
    String prefix;
    try (PodHost host = PodHost.start(RunSettings.kubeletDefaults())) {
      prefix = host.prefix();
      host.image(
          "busybox", TestImages.busybox(dir.resolve("b.tar"), List.of(), List.of("/bin/sh"), ""));
      RunningPod pod =
          host.run(
              PodFixtures.pod(
                  """
                  apiVersion: v1
                  kind: Pod
                  metadata: {name: leftover}
                  spec:
                    terminationGracePeriodSeconds: 1
                    containers:
                    - name: c
                      image: busybox
                      command: [/bin/sh, -c, 'echo up; sleep 600']
                      volumeMounts: [{name: mem, mountPath: /mem}]
                    - name: writable
                      image: busybox
                      command: [/bin/sh, -c, 'echo up; sleep 600']
                    volumes:
                    - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
                  """),
              "shop",
              Map.of());
      await().atMost(Duration.ofSeconds(30)).until(() -> pod.log("writable").contains("up"));
      assertThat(traces(prefix))
          .isNotEmpty()
          .anyMatch(t -> t.startsWith("netns"))
          .anyMatch(t -> t.startsWith("runc"))
          .anyMatch(t -> t.startsWith("cgroup"))
          .anyMatch(t -> t.startsWith("mount"));
    }
    assertThat(traces(prefix)).isEmpty();
  }

  @Test
  void aRemovedPodLeavesNothingOfItsOwnAndTheRunGoesOn() throws Exception {
    PodsTier.require();
    try (PodHost host = PodHost.start(RunSettings.kubeletDefaults())) {
      host.image(
          "busybox", TestImages.busybox(dir.resolve("b.tar"), List.of(), List.of("/bin/sh"), ""));
      String spec =
          """
          apiVersion: v1
          kind: Pod
          metadata: {name: NAME}
          spec:
            terminationGracePeriodSeconds: 1
            containers:
            - name: c
              image: busybox
              command: [/bin/sh, -c, 'echo up; sleep 600']
              volumeMounts: [{name: mem, mountPath: /mem}]
            volumes:
            - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
          """;
      RunningPod gone = host.run(PodFixtures.pod(spec.replace("NAME", "gone")), "shop", Map.of());
      RunningPod kept = host.run(PodFixtures.pod(spec.replace("NAME", "kept")), "shop", Map.of());
      await().atMost(Duration.ofSeconds(30)).until(() -> gone.log("c").contains("up"));
      await().atMost(Duration.ofSeconds(30)).until(() -> kept.log("c").contains("up"));

      host.remove(gone);

      String ofGone = host.prefix() + "-gone";
      assertThat(traces(host.prefix())).noneMatch(t -> t.contains(ofGone) || t.contains("/gone"));
      assertThat(traces(host.prefix()))
          .anyMatch(t -> t.equals("netns " + host.prefix() + "-kept"))
          .anyMatch(t -> t.equals("runc " + host.prefix() + "-kept-c"));
      assertThat(Path.of("/sys/fs/cgroup/memory", host.prefix(), "gone")).doesNotExist();
      assertThat(Path.of("/sys/fs/cgroup/memory", host.prefix(), "kept")).exists();
      assertThat(kept.status("c").running()).isTrue();
    }
  }

  @Test
  void theLeftoversOfAKilledRunAreRemovedAtTheNextStartAndALiveRunsAreNot() throws Exception {
    PodsTier.require();
    String dead = "cvp" + String.format("%05x", new java.util.Random().nextInt(1 << 20));
    String live = "cvp" + String.format("%05x", new java.util.Random().nextInt(1 << 20));
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.createDirectories(Leftovers.REGISTRY);
    Files.writeString(Leftovers.REGISTRY.resolve(dead + ".pid"), Long.toString(gone.pid()));
    Files.writeString(
        Leftovers.REGISTRY.resolve(live + ".pid"), Long.toString(ProcessHandle.current().pid()));
    try {
      for (String prefix : List.of(dead, live)) {
        Commands.run("ip", "netns", "add", prefix + "-stale");
        Commands.run("ip", "link", "add", prefix + "b", "type", "bridge");
        Files.createDirectories(Path.of("/sys/fs/cgroup/memory", prefix, "pod", "c"));
        Files.createDirectories(
            RunSettings.kubeletDefaults().workRoot().resolve(prefix).resolve("pods"));
      }
      assertThat(traces(dead)).hasSize(5);

      try (PodHost host = PodHost.start(RunSettings.kubeletDefaults())) {
        assertThat(traces(dead)).isEmpty();
        assertThat(traces(live)).hasSize(5);
      }
    } finally {
      Leftovers.remove(live, RunSettings.kubeletDefaults().workRoot());
      Leftovers.remove(dead, RunSettings.kubeletDefaults().workRoot());
    }
    assertThat(traces(live)).isEmpty();
  }
}

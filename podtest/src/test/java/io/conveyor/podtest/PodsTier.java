package io.conveyor.podtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;

/**
 * What the "pods" tier needs from the machine: root, runc, ip, busybox (for its own image) and the
 * cgroup v1 memory controller (where the runner reads OOM kills). Where any is missing, every test
 * of the tier fails with one line saying what and how to get it; the tier never passes by doing
 * nothing. A machine that cannot have it excludes the tier by name: -DexcludedGroups=pods.
 */
public final class PodsTier {

  public static final String TAG = "pods";

  private PodsTier() {}

  public static List<String> missing() {
    List<String> missing = new ArrayList<>();
    if (!isRoot()) {
      missing.add("root (namespaces, bridges, cgroups and runc need it)");
    }
    for (String tool : List.of("runc", "ip", "busybox")) {
      if (!onPath(tool)) {
        missing.add(tool);
      }
    }
    if (!Files.exists(Path.of("/sys/fs/cgroup/memory/memory.oom_control"))) {
      missing.add("the cgroup v1 memory controller at /sys/fs/cgroup/memory");
    }
    return missing;
  }

  /** Fails the calling test with one line when the machine cannot run the tier. */
  public static void require() {
    require(missing());
  }

  static void require(List<String> missing) {
    if (!missing.isEmpty()) {
      Assertions.fail(
          "pods tier cannot run here, missing: "
              + String.join(", ", missing)
              + " (./conveyor deps installs runc, iproute2 and busybox-static as root;"
              + " or exclude the tier: -DexcludedGroups=pods)");
    }
  }

  private static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0"); // the effective uid
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static boolean onPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}

package io.conveyor.podtest.run;

import io.conveyor.podtest.image.DockerArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs and what they leave behind. Every namespace, link, runc container, cgroup, mount and work
 * directory of a run is named with its prefix ({@code cvp} and five hex digits); a run registers
 * its process id, so the next run removes everything of a run whose process is gone (one killed
 * before its {@code close()} and its shutdown hook could run), and leaves live runs alone.
 */
public final class Leftovers {

  private static final Logger log = LoggerFactory.getLogger(Leftovers.class);

  static final String FAMILY = "cvp";
  static final int PREFIX_LENGTH = FAMILY.length() + 5;
  static final Path REGISTRY = Path.of("/run/conveyor-podtest");
  static final Path CGROUPS = Path.of("/sys/fs/cgroup");

  private Leftovers() {}

  /** A fresh run prefix, registered as owned by this process. */
  static String register(Random random) throws IOException {
    Files.createDirectories(REGISTRY);
    for (int attempt = 0; attempt < 16; attempt++) {
      String prefix = FAMILY + String.format("%05x", random.nextInt(1 << 20));
      Path file = REGISTRY.resolve(prefix + ".pid");
      if (!Files.exists(file) && find().stream().noneMatch(prefix::equals)) {
        Files.writeString(file, Long.toString(ProcessHandle.current().pid()));
        return prefix;
      }
    }
    throw new IllegalStateException("no free run prefix after 16 draws");
  }

  /** Removes every run whose registered process is gone (or that never registered). */
  public static List<String> removeStale(Path workRoot) {
    List<String> removed = new ArrayList<>();
    for (String prefix : find(workRoot)) {
      if (!alive(prefix)) {
        remove(prefix, workRoot);
        removed.add(prefix);
      }
    }
    if (!removed.isEmpty()) {
      log.info("removed the leftovers of runs {}", removed);
    }
    return removed;
  }

  /** Every run prefix that names something on this host. */
  static Set<String> find() {
    return find(null);
  }

  static Set<String> find(Path workRoot) {
    Set<String> prefixes = new TreeSet<>();
    List<String> names = new ArrayList<>();
    names.addAll(runcIds());
    names.addAll(netns());
    names.addAll(links());
    names.addAll(list(REGISTRY));
    names.addAll(cgroupDirs());
    if (workRoot != null) {
      names.addAll(list(workRoot));
    }
    for (String name : names) {
      if (name.startsWith(FAMILY) && name.length() >= PREFIX_LENGTH) {
        String prefix = name.substring(0, PREFIX_LENGTH);
        if (prefix.substring(FAMILY.length()).matches("[0-9a-f]{5}")) {
          prefixes.add(prefix);
        }
      }
    }
    return prefixes;
  }

  private static boolean alive(String prefix) {
    try {
      long pid = Long.parseLong(Files.readString(REGISTRY.resolve(prefix + ".pid")).strip());
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  /** Everything of one run, in dependency order: containers, mounts, namespaces, links, cgroups. */
  static void remove(String prefix, Path workRoot) {
    for (String id : runcIds()) {
      if (id.startsWith(prefix)) {
        Commands.attempt(List.of("runc", "kill", id, "KILL"), Commands.DEFAULT_TIMEOUT);
        Commands.attempt(List.of("runc", "delete", "--force", id), Commands.DEFAULT_TIMEOUT);
      }
    }
    if (workRoot != null) {
      unmountUnder(workRoot.resolve(prefix));
    }
    for (String ns : netns()) {
      if (ns.startsWith(prefix)) {
        Commands.attempt(List.of("ip", "netns", "del", ns), Commands.DEFAULT_TIMEOUT);
      }
    }
    for (String link : links()) {
      if (link.startsWith(prefix)) {
        Commands.attempt(List.of("ip", "link", "del", link), Commands.DEFAULT_TIMEOUT);
      }
    }
    for (Path controller : list(CGROUPS).stream().map(CGROUPS::resolve).toList()) {
      removeCgroup(controller.resolve(prefix));
    }
    try {
      if (workRoot != null) {
        DockerArchive.deleteRecursively(workRoot.resolve(prefix));
      }
      Files.deleteIfExists(REGISTRY.resolve(prefix + ".pid"));
    } catch (IOException e) {
      log.warn("could not remove the files of run {}: {}", prefix, e.toString());
    }
  }

  /** One cgroup path (relative to each hierarchy's root) removed from every hierarchy. */
  static void removeCgroupEverywhere(String relative) {
    for (Path controller : list(CGROUPS).stream().map(CGROUPS::resolve).toList()) {
      removeCgroup(controller.resolve(relative));
    }
  }

  /**
   * cgroup directories go with rmdir, deepest first; a cgroup with a live task stays (and says so).
   */
  static void removeCgroup(Path dir) {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path d : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
        Commands.Result r =
            Commands.attempt(List.of("rmdir", d.toString()), Commands.DEFAULT_TIMEOUT);
        if (r.exit() != 0) {
          log.warn("cgroup {} not removed: {}", d, r.output().strip());
        }
      }
    } catch (IOException e) {
      log.warn("cgroup {} not removed: {}", dir, e.toString());
    }
  }

  static void unmountUnder(Path dir) {
    List<String> points = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String point = line.split(" ")[4];
        if (point.startsWith(dir.toString() + "/") || point.equals(dir.toString())) {
          points.add(point);
        }
      }
    } catch (IOException e) {
      log.warn("could not read /proc/self/mountinfo: {}", e.toString());
    }
    points.sort(Comparator.comparingInt(String::length).reversed());
    for (String point : points) {
      Commands.attempt(List.of("umount", "-l", point), Commands.DEFAULT_TIMEOUT);
    }
  }

  static List<String> runcIds() {
    Commands.Result r = Commands.attempt(List.of("runc", "list", "-q"), Commands.DEFAULT_TIMEOUT);
    return r.exit() == 0 ? lines(r.output()) : List.of();
  }

  static List<String> netns() {
    Commands.Result r = Commands.attempt(List.of("ip", "netns", "list"), Commands.DEFAULT_TIMEOUT);
    return r.exit() == 0
        ? lines(r.output()).stream().map(l -> l.split(" ")[0]).toList()
        : List.of();
  }

  static List<String> links() {
    Commands.Result r =
        Commands.attempt(List.of("ip", "-o", "link", "show"), Commands.DEFAULT_TIMEOUT);
    List<String> names = new ArrayList<>();
    if (r.exit() == 0) {
      for (String line : lines(r.output())) {
        String[] parts = line.split(": ", 3);
        if (parts.length > 1) {
          names.add(parts[1].split("@")[0]);
        }
      }
    }
    return names;
  }

  private static List<String> cgroupDirs() {
    List<String> names = new ArrayList<>();
    for (String controller : list(CGROUPS)) {
      names.addAll(list(CGROUPS.resolve(controller)));
    }
    return names;
  }

  private static List<String> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<String> lines(String output) {
    return output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }
}

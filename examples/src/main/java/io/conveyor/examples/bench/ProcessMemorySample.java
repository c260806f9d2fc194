package io.conveyor.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One process's memory from {@code /proc/<pid>/smaps_rollup}, in bytes: {@code rss} (resident),
 * {@code anon} (its anonymous part: heap, metaspace, stacks, malloc — the process's own) and {@code
 * pss} (proportional: each shared page divided among the processes mapping it — libjvm and a class
 * archive used by ten JVMs count a tenth each; what a node really pays per process).
 */
record ProcessMemorySample(long rss, long anon, long pss) {

  static final ProcessMemorySample NONE = new ProcessMemorySample(0, 0, 0);

  /** Reads {@code pid}'s sample; {@link #NONE} when it is gone or unreadable. */
  static ProcessMemorySample of(long pid) {
    long rss = 0;
    long anon = 0;
    long pss = 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
        if (line.startsWith("Rss:")) {
          rss = kib(line);
        } else if (line.startsWith("Anonymous:")) {
          anon = kib(line);
        } else if (line.startsWith("Pss:")) {
          pss = kib(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      return NONE;
    }
    return new ProcessMemorySample(rss, anon, pss);
  }

  /** The larger of each figure. */
  ProcessMemorySample max(ProcessMemorySample other) {
    return new ProcessMemorySample(
        Math.max(rss, other.rss), Math.max(anon, other.anon), Math.max(pss, other.pss));
  }

  private static long kib(String line) {
    return Long.parseLong(line.substring(line.indexOf(':') + 1).trim().split("\\s+")[0]) * 1024;
  }
}

package io.conveyor.podtest.run;

/**
 * A running container's memory as its cgroup (v1) and its main process account it.
 *
 * @param limitBytes {@code memory.limit_in_bytes}: the container's memory limit
 * @param usageBytes {@code memory.usage_in_bytes} now
 * @param maxUsageBytes {@code memory.max_usage_in_bytes}: the highest usage since the container
 *     started
 * @param failCount {@code memory.failcnt}: how often usage hit the limit (and the kernel reclaimed)
 * @param oomKills {@code oom_kill} of {@code memory.oom_control}: processes the OOM killer ended
 * @param rssBytes {@code total_rss} of {@code memory.stat}: anonymous memory of the cgroup
 * @param processRssBytes {@code VmRSS} of the container's first process
 * @param processPeakRssBytes {@code VmHWM} of the container's first process: its peak RSS
 */
public record MemoryFigures(
    long limitBytes,
    long usageBytes,
    long maxUsageBytes,
    long failCount,
    long oomKills,
    long rssBytes,
    long processRssBytes,
    long processPeakRssBytes) {

  /** One line for a test's output, in MiB. */
  public String describe() {
    return "limit %s, cgroup max usage %s (now %s), cgroup rss %s, process rss %s (peak %s), failcnt %d, oom_kill %d"
        .formatted(
            mib(limitBytes),
            mib(maxUsageBytes),
            mib(usageBytes),
            mib(rssBytes),
            mib(processRssBytes),
            mib(processPeakRssBytes),
            failCount,
            oomKills);
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}

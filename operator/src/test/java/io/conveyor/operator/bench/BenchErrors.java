package io.conveyor.operator.bench;

import java.util.Map;
import java.util.TreeMap;

/**
 * The errors a benchmark run met, counted by kind with the first of each kind as the example. A run
 * that met any is not a measurement of the normal case, so the benchmark fails on it rather than
 * print figures that look fine. Thread-safe.
 */
final class BenchErrors {

  private record Tally(long count, String first) {}

  private final Map<String, Tally> byKind = new TreeMap<>();

  /** One error of {@code kind}, e.g. a heartbeat call that failed. */
  void count(String kind, Throwable error) {
    add(kind, 1, describe(error));
  }

  /** {@code count} errors of {@code kind} (none is fine), e.g. read from the operator's meters. */
  synchronized void add(String kind, long count, String example) {
    if (count <= 0) {
      return;
    }
    byKind.merge(
        kind, new Tally(count, example), (a, b) -> new Tally(a.count() + b.count(), a.first()));
  }

  synchronized long total() {
    return byKind.values().stream().mapToLong(Tally::count).sum();
  }

  synchronized long count(String kind) {
    Tally tally = byKind.get(kind);
    return tally == null ? 0 : tally.count();
  }

  /** One line: every kind with its count and first example. */
  synchronized String summary() {
    StringBuilder line = new StringBuilder();
    byKind.forEach(
        (kind, tally) -> {
          if (!line.isEmpty()) {
            line.append("; ");
          }
          line.append(kind).append(": ").append(tally.count()).append(" (first: ");
          line.append(tally.first()).append(')');
        });
    return line.toString();
  }

  /** The exception and its causes on one line, without the stack. */
  static String describe(Throwable error) {
    StringBuilder text = new StringBuilder(String.valueOf(error));
    for (Throwable cause = error.getCause(); cause != null; cause = cause.getCause()) {
      text.append(" <- ").append(cause);
    }
    return text.toString();
  }
}

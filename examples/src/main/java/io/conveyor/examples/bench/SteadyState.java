package io.conveyor.examples.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * When the bench's warm-up may end: once every path's throughput has stopped moving.
 *
 * <p>The processes of every path start cold, and the applications' C2 compiler, starved of CPU by
 * the load itself, keeps making them faster for many rounds: with one fixed warm-up run per path,
 * every path ran about twice as fast in its third measured round as in its first, so a ratio of two
 * paths compared warm-up states rather than paths. Warm-up rounds (each path once) therefore go on
 * until every path's mean records per second over the last {@value #WINDOW} rounds is within {@code
 * tolerance} of its mean over the {@value #WINDOW} before: means, because single runs on a shared
 * 2-core machine move by a fifth either way, and a rule on single runs ends at a lucky pair or
 * never. At most {@code maxRounds} rounds, after which the bench goes on and says that it did not
 * settle.
 */
final class SteadyState<P> {

  /** Rounds per mean: the last window is compared with the one before it. */
  static final int WINDOW = 3;

  private final double tolerance;
  private final int maxRounds;
  private final Map<P, List<Double>> history = new LinkedHashMap<>();
  private int rounds;

  SteadyState(double tolerance, int maxRounds) {
    if (!(tolerance > 0) || maxRounds < 1) {
      throw new IllegalArgumentException(
          "tolerance must be > 0 and maxRounds >= 1: " + tolerance + ", " + maxRounds);
    }
    this.tolerance = tolerance;
    this.maxRounds = maxRounds;
  }

  /** One path's records per second in the current round. */
  void record(P path, double recordsPerSecond) {
    history.computeIfAbsent(path, p -> new ArrayList<>()).add(recordsPerSecond);
  }

  /** Ends a round: every path has recorded its run of it. */
  void endRound() {
    rounds++;
  }

  int rounds() {
    return rounds;
  }

  /** Every path's mean over the last window of rounds is within the tolerance of the one before. */
  boolean steady() {
    if (rounds < 2 * WINDOW || history.isEmpty()) {
      return false;
    }
    return history.values().stream().allMatch(runs -> Math.abs(trend(runs)) <= tolerance);
  }

  /** Warm-up is over: steady, or out of rounds. */
  boolean done() {
    return steady() || rounds >= maxRounds;
  }

  /**
   * Each path's last change and, once there are two windows, its trend: e.g. {@code direct +3.1%
   * (trend +12.0%) sidecar -2.0% (trend +4.2%)}.
   */
  String changes() {
    StringBuilder line = new StringBuilder();
    history.forEach(
        (path, runs) -> {
          if (runs.size() >= 2) {
            double last = runs.get(runs.size() - 1);
            double before = runs.get(runs.size() - 2);
            line.append(line.isEmpty() ? "" : " ")
                .append(path)
                .append(String.format(Locale.ROOT, " %+.1f%%", 100 * relative(last, before)));
            if (runs.size() >= 2 * WINDOW) {
              line.append(String.format(Locale.ROOT, " (trend %+.1f%%)", 100 * trend(runs)));
            }
          }
        });
    return line.toString();
  }

  /** The mean of the last window over the mean of the window before, less one. */
  private static double trend(List<Double> runs) {
    int n = runs.size();
    if (n < 2 * WINDOW) {
      return Double.POSITIVE_INFINITY;
    }
    double last = 0;
    double before = 0;
    for (int k = 0; k < WINDOW; k++) {
      last += runs.get(n - 1 - k);
      before += runs.get(n - 1 - WINDOW - k);
    }
    return relative(last, before);
  }

  /** {@code value / base - 1}; infinite when the base is not positive (nothing to compare with). */
  private static double relative(double value, double base) {
    return base > 0 ? value / base - 1 : Double.POSITIVE_INFINITY;
  }
}

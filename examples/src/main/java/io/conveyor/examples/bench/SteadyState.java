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
 * until, in the last round, every path's records per second moved by at most {@code tolerance} from
 * its run before; at most {@code maxRounds} rounds, after which the bench goes on and says that it
 * did not settle.
 */
final class SteadyState<P> {

  private final double tolerance;
  private final int maxRounds;
  private final Map<P, List<Double>> history = new LinkedHashMap<>();
  private int rounds;

  SteadyState(double tolerance, int maxRounds) {
    if (!(tolerance > 0) || maxRounds < 2) {
      throw new IllegalArgumentException(
          "tolerance must be > 0 and maxRounds >= 2: " + tolerance + ", " + maxRounds);
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

  /** Every path has run at least twice and its last run moved by at most the tolerance. */
  boolean steady() {
    if (rounds < 2 || history.isEmpty()) {
      return false;
    }
    return history.values().stream().allMatch(runs -> Math.abs(lastChange(runs)) <= tolerance);
  }

  /** Warm-up is over: steady, or out of rounds. */
  boolean done() {
    return steady() || rounds >= maxRounds;
  }

  /** Each path's last change, e.g. {@code direct +3.1% sidecar -12.0%}. */
  String changes() {
    StringBuilder line = new StringBuilder();
    history.forEach(
        (path, runs) -> {
          if (runs.size() >= 2) {
            line.append(line.isEmpty() ? "" : " ")
                .append(path)
                .append(String.format(Locale.ROOT, " %+.1f%%", 100 * lastChange(runs)));
          }
        });
    return line.toString();
  }

  private static double lastChange(List<Double> runs) {
    if (runs.size() < 2) {
      return Double.POSITIVE_INFINITY;
    }
    double before = runs.get(runs.size() - 2);
    double last = runs.get(runs.size() - 1);
    return before > 0 ? last / before - 1 : Double.POSITIVE_INFINITY;
  }
}

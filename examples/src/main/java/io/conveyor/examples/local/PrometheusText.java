package io.conveyor.examples.local;

/** Reading the Prometheus text pages the Conveyor binaries serve on /metrics. */
public final class PrometheusText {

  private PrometheusText() {}

  /** A gauge or counter from a Prometheus text page, summed over its series; -1 when absent. */
  public static double metric(String page, String name) {
    double sum = 0;
    boolean found = false;
    for (String line : page.split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? sum : -1;
  }
}

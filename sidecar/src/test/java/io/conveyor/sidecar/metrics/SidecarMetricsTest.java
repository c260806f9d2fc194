package io.conveyor.sidecar.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.RecordOutcome;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a Prometheus scrape of the sidecar's own meters shows, before anything happened. */
class SidecarMetricsTest {

  private static final Pattern HELP = Pattern.compile("(?m)^# HELP (\\S+) ?(.*)$");

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @AfterEach
  void close() {
    registry.close();
  }

  @Test
  void everyMetricHasAHelpText() {
    SidecarMetrics metrics = new SidecarMetrics(registry);
    StageMeters stage = metrics.stage("etl", "store");
    stage.batchIn(3);
    stage.outcome(RecordOutcome.RECORD_OUTCOME_DELIVERED, 3);
    stage.retried(1);
    stage.callFailed();
    stage.latency(true, 1_000_000);
    metrics.pushLatency("etl").record(java.time.Duration.ofMillis(2));

    String scrape = registry.scrape();
    Matcher help = HELP.matcher(scrape);
    int families = 0;
    while (help.find()) {
      families++;
      assertThat(help.group(2).trim()).as("HELP of %s", help.group(1)).isNotEmpty();
    }
    assertThat(families).as("metric families in:%n%s", scrape).isGreaterThanOrEqualTo(13);
  }

  @Test
  void countersThatHaveNotFiredReadZero() {
    new SidecarMetrics(registry);

    String scrape = registry.scrape();
    assertThat(scrape).contains("conveyor_sidecar_backpressure_events_total 0.0");
    for (String reason :
        List.of("draining", "starting", "not_assigned", "too_large", "over_limit")) {
      assertThat(scrape)
          .contains("conveyor_sidecar_rejected_calls_total{reason=\"" + reason + "\"} 0.0");
    }
    for (String result : List.of("ok", "error")) {
      assertThat(scrape)
          .contains("conveyor_sidecar_discovery_runs_total{result=\"" + result + "\"} 0.0")
          .contains("conveyor_sidecar_registrations_total{result=\"" + result + "\"} 0.0");
    }
    for (String result : List.of("ok", "unknown_sidecar", "error")) {
      assertThat(scrape)
          .contains("conveyor_sidecar_heartbeats_total{result=\"" + result + "\"} 0.0");
    }
  }

  @Test
  void aCounterFiresOnTheSeriesThatWasRegisteredAhead() {
    SidecarMetrics metrics = new SidecarMetrics(registry);
    metrics.rejected("over_limit");
    metrics.backpressure();

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("conveyor_sidecar_rejected_calls_total{reason=\"over_limit\"} 1.0")
        .contains("conveyor_sidecar_rejected_calls_total{reason=\"draining\"} 0.0")
        .contains("conveyor_sidecar_backpressure_events_total 1.0");
  }
}

package io.conveyor.router.grpc;

import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.registration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.testkit.MutableClock;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a scrape of a freshly started router shows, with the registry the standalone main uses. */
class RouterMetricsTest {

  private static final Pattern HELP = Pattern.compile("^# HELP (\\S+)(?: (.*))?$");
  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) (\\S+)$");
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*})? (.+)$");

  private final PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-router");
  private RouterServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    RouterCore core = new RouterCore(new MutableClock(), RouterSettings.defaults());
    core.replacePipelines(List.of(pipeline("orders-etl", "orders", List.of(), "warehouse")));
    String name = InProcessServerBuilder.generateName();
    server =
        RouterServer.start(InProcessServerBuilder.forName(name).directExecutor(), core, meters);
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  /** Family name → HELP text ("" when the HELP line is missing or empty). */
  private Map<String, String> helpByFamily() {
    Map<String, String> help = new TreeMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : meters.scrape().split("\n")) {
      Matcher h = HELP.matcher(line);
      Matcher t = TYPE.matcher(line);
      if (h.matches()) {
        help.put(h.group(1), h.group(2) == null ? "" : h.group(2).strip());
      } else if (t.matches()) {
        types.put(t.group(1), t.group(2));
      }
    }
    Map<String, String> byFamily = new TreeMap<>();
    types.keySet().forEach(family -> byFamily.put(family, help.getOrDefault(family, "")));
    return byFamily;
  }

  /** Sample line (name and labels) → value. */
  private Map<String, Double> samples() {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : meters.scrape().split("\n")) {
      Matcher s = SAMPLE.matcher(line);
      if (!line.startsWith("#") && s.matches()) {
        String labels = s.group(2) == null ? "" : s.group(2);
        samples.put(s.group(1) + labels, Double.parseDouble(s.group(3)));
      }
    }
    return samples;
  }

  @Test
  void everyExportedMetricHasAHelpText() {
    Map<String, String> help = helpByFamily();

    assertThat(help).isNotEmpty();
    assertThat(help.entrySet())
        .allSatisfy(
            family -> assertThat(family.getValue()).as("HELP of %s", family.getKey()).isNotBlank());
  }

  @Test
  void everyRouterCounterIsExportedAsZeroBeforeItFires() {
    String app = "{app=\"conveyor-router\"}";

    assertThat(samples())
        .containsEntry("conveyor_router_registrations_total" + app, 0.0)
        .containsEntry(
            "conveyor_router_registrations_refused_total{app=\"conveyor-router\",reason=\"invalid\"}",
            0.0)
        .containsEntry(
            "conveyor_router_registrations_refused_total{app=\"conveyor-router\",reason=\"registry_full\"}",
            0.0)
        .containsEntry("conveyor_router_heartbeats_total" + app, 0.0)
        .containsEntry("conveyor_router_unknown_sidecar_calls_total" + app, 0.0)
        .containsEntry("conveyor_router_deregistrations_total" + app, 0.0)
        .containsEntry("conveyor_router_expirations_total" + app, 0.0)
        .containsEntry("conveyor_router_watch_commands_dropped_total" + app, 0.0)
        .containsEntry("conveyor_router_sidecars" + app, 0.0)
        .containsEntry("conveyor_router_pipelines" + app, 1.0);
  }

  @Test
  void aRefusedRegistrationIsCountedByReason() {
    SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub stub =
        SidecarCoordinatorGrpc.newBlockingStub(channel);

    assertThatThrownBy(
            () ->
                stub.registerSidecar(
                    registration("sc-a").toBuilder()
                        .setIdentity(SidecarIdentity.newBuilder().setPodName("p"))
                        .build()))
        .isInstanceOf(StatusRuntimeException.class);
    stub.registerSidecar(registration("sc-b"));

    assertThat(samples())
        .containsEntry(
            "conveyor_router_registrations_refused_total{app=\"conveyor-router\",reason=\"invalid\"}",
            1.0)
        .containsEntry("conveyor_router_registrations_total{app=\"conveyor-router\"}", 1.0)
        .containsEntry("conveyor_router_sidecars{app=\"conveyor-router\"}", 1.0);
  }
}

package io.conveyor.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TimeoutGraceTest {

  private static final DiscoveredService MASK = service("mask-pii", 50052, false);
  private static final DiscoveredService ENRICH = service("enrich", 50053, false);
  private static final DiscoveredService WAREHOUSE = service("warehouse", 50053, true);

  private final TimeoutGrace grace = new TimeoutGrace(3);

  private static DiscoveredService service(String name, int port, boolean sink) {
    return DiscoveredService.newBuilder()
        .setDescription(ServiceDescriptor.newBuilder().setName(name))
        .setGrpcService(sink ? SinkServiceGrpc.SERVICE_NAME : TransformServiceGrpc.SERVICE_NAME)
        .setEndpoint("127.0.0.1:" + port)
        .build();
  }

  private static PortScanner.Scan scan(List<DiscoveredService> found, Integer... timedOut) {
    return new PortScanner.Scan(found, List.of(), Set.of(timedOut));
  }

  @Test
  void aPortThatTimesOutKeepsItsServicesForAFewScansThenLosesThem() {
    // In scan order: by port, then by gRPC service (SinkService before TransformService).
    List<DiscoveredService> before = List.of(MASK, WAREHOUSE, ENRICH);
    List<DiscoveredService> current = before;

    for (int scan = 1; scan <= 3; scan++) {
      current = grace.services(scan(List.of(MASK), 50053), current);
      assertThat(current).as("scan %d: no change to report", scan).isEqualTo(before);
    }
    current = grace.services(scan(List.of(MASK), 50053), current);

    assertThat(current).as("a port that keeps timing out is dropped").containsExactly(MASK);
  }

  @Test
  void aConclusiveProbeWinsAtOnce() {
    List<DiscoveredService> current = List.of(MASK, ENRICH);

    assertThat(grace.services(scan(List.of(MASK)), current)).containsExactly(MASK);
  }

  @Test
  void onlyWhatTheTimedOutProbeDidNotFindIsKept() {
    // Describe of one of the port's two services timed out; the other answered.
    List<DiscoveredService> current = List.of(WAREHOUSE, ENRICH);

    assertThat(grace.services(scan(List.of(ENRICH), 50053), current))
        .containsExactly(WAREHOUSE, ENRICH);
  }

  @Test
  void aNewListenerOnThePortGetsNoGrace() {
    List<DiscoveredService> current = List.of(MASK, ENRICH);
    PortScanner.Scan restarted =
        new PortScanner.Scan(List.of(MASK), List.of(), Set.of(50053), Set.of(50053));

    assertThat(grace.services(restarted, current)).containsExactly(MASK);
  }

  @Test
  void theCountStartsOverAfterAConclusiveProbe() {
    List<DiscoveredService> current = List.of(MASK, ENRICH);
    for (int scan = 0; scan < 3; scan++) {
      current = grace.services(scan(List.of(MASK), 50053), current);
    }
    current = grace.services(scan(List.of(MASK, ENRICH)), current);

    for (int scan = 0; scan < 3; scan++) {
      current = grace.services(scan(List.of(MASK), 50053), current);
    }
    assertThat(current).containsExactly(MASK, ENRICH);
  }

  @Test
  void aTimeoutNeverInventsServices() {
    assertThat(grace.services(scan(List.of(), 50052, 50053), List.of())).isEmpty();
  }
}

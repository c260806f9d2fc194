package io.conveyor.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.SidecarState;
import org.junit.jupiter.api.Test;

/** The strings of status.sidecarState and status.services[].health, both ways. */
class StatusNamesTest {

  @Test
  void sidecarStatesAreSpelledAsTheCrdDocumentsThemAndReadBack() {
    assertThat(SidecarStateName.of(SidecarState.SIDECAR_STATE_STARTING)).isEqualTo("Starting");
    assertThat(SidecarStateName.of(SidecarState.SIDECAR_STATE_SERVING)).isEqualTo("Serving");
    assertThat(SidecarStateName.of(SidecarState.SIDECAR_STATE_DRAINING)).isEqualTo("Draining");
    assertThat(SidecarStateName.of(SidecarState.SIDECAR_STATE_UNSPECIFIED)).isEqualTo("Unknown");
    for (SidecarState state : SidecarState.values()) {
      if (state != SidecarState.UNRECOGNIZED) {
        assertThat(SidecarStateName.parse(SidecarStateName.of(state))).isEqualTo(state);
      }
    }
    assertThat(SidecarStateName.parse(null)).isEqualTo(SidecarState.SIDECAR_STATE_UNSPECIFIED);
    assertThat(SidecarStateName.parse("draining"))
        .isEqualTo(SidecarState.SIDECAR_STATE_UNSPECIFIED);
  }

  @Test
  void serviceHealthsAreSpelledAsTheCrdDocumentsThemAndReadBack() {
    assertThat(ServiceHealthName.of(ServiceHealth.SERVICE_HEALTH_SERVING)).isEqualTo("Serving");
    assertThat(ServiceHealthName.of(ServiceHealth.SERVICE_HEALTH_NOT_SERVING))
        .isEqualTo("NotServing");
    assertThat(ServiceHealthName.of(ServiceHealth.SERVICE_HEALTH_UNSPECIFIED)).isEqualTo("Unknown");
    for (ServiceHealth health : ServiceHealth.values()) {
      if (health != ServiceHealth.UNRECOGNIZED) {
        assertThat(ServiceHealthName.parse(ServiceHealthName.of(health))).isEqualTo(health);
      }
    }
    assertThat(ServiceHealthName.parse(null)).isEqualTo(ServiceHealth.SERVICE_HEALTH_UNSPECIFIED);
  }
}

package io.conveyor.router.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RouterSettingsTest {

  @Test
  void theSubsetSizeDefaultsToSixteenAndMustBeAtLeastOne() {
    assertThat(RouterSettings.defaults().subsetSize()).isEqualTo(16);
    assertThat(RouterSettings.defaults().withSubsetSize(1).subsetSize()).isEqualTo(1);
    assertThatThrownBy(() -> RouterSettings.defaults().withSubsetSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the subset size must be at least 1 (targets per next stage), was 0");
  }
}

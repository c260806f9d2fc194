package io.conveyor.podtest;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** Where the pods tier cannot run, it fails with one line; it never passes by doing nothing. */
class PodsTierTest {

  @Test
  void aMachineWithoutWhatTheTierNeedsFailsItWithOneLineNamingWhatIsMissing() {
    assertThatThrownBy(
            () ->
                PodsTier.require(
                    List.of("root (namespaces, bridges, cgroups and runc need it)", "runc")))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessage(
            "pods tier cannot run here, missing: root (namespaces, bridges, cgroups and runc need it), runc"
                + " (./conveyor deps installs runc, iproute2 and busybox-static as root;"
                + " or exclude the tier: -DexcludedGroups=pods)");
  }

  @Test
  void aMachineWithEverythingRunsIt() {
    assertThatCode(() -> PodsTier.require(List.of())).doesNotThrowAnyException();
  }
}

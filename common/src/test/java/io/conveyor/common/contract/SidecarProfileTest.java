package io.conveyor.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SidecarProfileTest {

  @Test
  void eachProfileIsAnArgfileInTheImageNamedByItsValue() {
    assertThat(SidecarProfile.COMPACT.jvmOptionsArgument())
        .isEqualTo("@/app/profiles/compact.options");
    assertThat(SidecarProfile.THROUGHPUT.jvmOptionsArgument())
        .isEqualTo("@/app/profiles/throughput.options");
    assertThat(SidecarProfile.parse("throughput")).contains(SidecarProfile.THROUGHPUT);
    assertThat(SidecarProfile.parse("Throughput")).as("exact, as annotations are").isEmpty();
    assertThat(SidecarProfile.parse("")).isEmpty();
  }

  @Test
  void whatAContainersJvmOptionsSayItRuns() {
    for (SidecarProfile profile : SidecarProfile.values()) {
      assertThat(SidecarProfile.ofJvmOptions(profile.jvmOptionsArgument())).contains(profile);
    }
    assertThat(SidecarProfile.ofJvmOptions(null))
        .as("unset: the image's default")
        .contains(SidecarProfile.COMPACT);
    assertThat(SidecarProfile.ofJvmOptions("-XX:-TieredCompilation"))
        .as("set by hand: none of them")
        .isEmpty();
    assertThat(SidecarProfile.ofJvmOptions("@/app/profiles/compact.options -Xmx64m")).isEmpty();
  }
}

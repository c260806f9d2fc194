package io.conveyor.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SidecarKindTest {

  @Test
  void withoutVariantFlagsTheArchiveIsComparedWithNone() {
    assertThat(SidecarKind.alternated(true, Optional.empty()))
        .containsExactly(SidecarKind.WITHOUT_ARCHIVE, SidecarKind.WITH_ARCHIVE);
    assertThat(SidecarKind.alternated(true, Optional.of("  ")))
        .as("blank flags are no variant")
        .containsExactly(SidecarKind.WITHOUT_ARCHIVE, SidecarKind.WITH_ARCHIVE);
    assertThat(SidecarKind.alternated(false, Optional.empty()))
        .as("no archive was built: one kind")
        .containsExactly(SidecarKind.WITHOUT_ARCHIVE);
  }

  @Test
  void variantFlagsAreComparedWithTheSidecarAsBuiltBothWithTheArchive() {
    List<SidecarKind> kinds =
        SidecarKind.alternated(true, Optional.of(" -XX:CompileThresholdScaling=6  -Dx=y "));

    assertThat(kinds)
        .containsExactly(
            new SidecarKind("base", "base", true, List.of()),
            new SidecarKind(
                "variant", "variant", true, List.of("-XX:CompileThresholdScaling=6", "-Dx=y")));
    assertThat(SidecarKind.alternated(false, Optional.of("-Dx=y")))
        .allSatisfy(kind -> assertThat(kind.archive()).isFalse());
  }
}

package io.conveyor.examples.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {

  @TempDir Path repo;

  @Test
  void theSidecarRunsWithItsOptionsFileItsNativeLibrariesAndTheOverridesLast() throws Exception {
    Files.createDirectories(repo.resolve("sidecar/target/native"));
    Files.writeString(repo.resolve("sidecar/jvm.options"), "-XX:TieredStopAtLevel=1\n");
    Launcher launcher =
        Launcher.jars(repo)
            .withOverridingOptions(Component.SIDECAR, List.of("-XX:-TieredCompilation"));

    List<String> command = launcher.command(Component.SIDECAR, List.of("arg"));

    assertThat(command.subList(1, command.size()))
        .containsExactly(
            "@" + repo.resolve("sidecar/jvm.options"),
            "-Djava.library.path=" + repo.resolve("sidecar/target/native"),
            // After the options file: the JVM takes the last value of a flag.
            "-XX:-TieredCompilation",
            "-jar",
            repo.resolve("sidecar/target/conveyor-sidecar.jar").toString(),
            "arg");
    assertThat(launcher.withoutClassArchives().command(Component.SIDECAR, List.of()))
        .as("kept without class archives")
        .contains("-XX:-TieredCompilation");
    assertThat(launcher.command(Component.ROUTER, List.of()))
        .as("other components are untouched")
        .doesNotContain("-XX:-TieredCompilation")
        .noneMatch(option -> option.startsWith("-Djava.library.path"));
  }

  @Test
  void withoutTheUnpackedLibrariesNoLibraryPathIsGiven() throws Exception {
    Files.createDirectories(repo.resolve("sidecar"));
    Files.writeString(repo.resolve("sidecar/jvm.options"), "-Xmx32m\n");

    assertThat(Launcher.jars(repo).command(Component.SIDECAR, List.of()))
        .noneMatch(option -> option.startsWith("-Djava.library.path"));
  }
}

package io.conveyor.examples.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.contract.SidecarProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
            // The profile after the options file, the compact one unless asked otherwise.
            "@" + repo.resolve("sidecar/profiles/compact.options"),
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
        .noneMatch(option -> option.startsWith("-Djava.library.path"))
        .noneMatch(option -> option.contains("profiles"));
  }

  @Test
  void theSidecarsProfileIsAnArgfileForTheJarAndTheVariableForAWholeCommand() {
    Launcher throughput = Launcher.jars(repo).withSidecarProfile(SidecarProfile.THROUGHPUT);

    assertThat(throughput.command(Component.SIDECAR, List.of()))
        .contains("@" + repo.resolve("sidecar/profiles/throughput.options"))
        .doesNotContain("@" + repo.resolve("sidecar/profiles/compact.options"));
    assertThat(throughput.environment(Component.SIDECAR))
        .as("the jar's JVM is told on its command line")
        .isEmpty();

    // An image's entrypoint: its JVM reads the profile from the environment, as in a pod.
    Launcher image =
        throughput.withCommand(Component.SIDECAR, List.of("java", "@/app/jvm.options", "Main"));
    assertThat(image.command(Component.SIDECAR, List.of()))
        .containsExactly("java", "@/app/jvm.options", "Main");
    assertThat(image.environment(Component.SIDECAR))
        .containsExactly(Map.entry("JDK_JAVA_OPTIONS", "@/app/profiles/throughput.options"));
    assertThat(image.environment(Component.ROUTER)).isEmpty();
    assertThat(
            Launcher.jars(repo)
                .withCommand(Component.SIDECAR, List.of("java"))
                .environment(Component.SIDECAR))
        .containsExactly(Map.entry("JDK_JAVA_OPTIONS", "@/app/profiles/compact.options"));
  }

  @Test
  void withoutTheUnpackedLibrariesNoLibraryPathIsGiven() throws Exception {
    Files.createDirectories(repo.resolve("sidecar"));
    Files.writeString(repo.resolve("sidecar/jvm.options"), "-Xmx32m\n");

    assertThat(Launcher.jars(repo).command(Component.SIDECAR, List.of()))
        .noneMatch(option -> option.startsWith("-Djava.library.path"));
  }
}

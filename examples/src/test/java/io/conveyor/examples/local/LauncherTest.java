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
            // The profile before the options file, as in the image (JDK_JAVA_OPTIONS comes first),
            // the compact one unless asked otherwise.
            "@" + repo.resolve("sidecar/profiles/compact.options"),
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
        .noneMatch(option -> option.startsWith("-Djava.library.path"))
        .noneMatch(option -> option.contains("profiles"));
  }

  @Test
  void overridingOptionsAddUpInTheOrderGiven() {
    Launcher launcher =
        Launcher.jars(repo)
            .withOverridingOptions(Component.SIDECAR, List.of("-Xmn8m", "-Dfirst=1"))
            .withOverridingOptions(Component.SIDECAR, List.of("-Xmn6m"));

    List<String> command = launcher.command(Component.SIDECAR, List.of());

    // The bench's own flags, then a variant's: the variant's -Xmn is the last, so it wins.
    assertThat(command).containsSubsequence("-Xmn8m", "-Dfirst=1", "-Xmn6m", "-jar");
  }

  @Test
  void theSidecarsProfileIsAnArgfileForTheJarAndTheVariableForAWholeCommand() {
    Launcher throughput = Launcher.jars(repo).withSidecarProfile(SidecarProfile.THROUGHPUT);

    assertThat(throughput.command(Component.SIDECAR, List.of()))
        .contains("@" + repo.resolve("sidecar/profiles/throughput.options"))
        .doesNotContain("@" + repo.resolve("sidecar/profiles/compact.options"));
    assertThat(throughput.environment(Component.SIDECAR, Map.of("A", "b")))
        .as("the jar's JVM is told on its command line")
        .containsExactly(Map.entry("A", "b"));

    // An image's entrypoint: its JVM reads the profile from the environment, as in a pod.
    Launcher image =
        throughput.withCommand(Component.SIDECAR, List.of("java", "@/app/jvm.options", "Main"));
    assertThat(image.command(Component.SIDECAR, List.of()))
        .containsExactly("java", "@/app/jvm.options", "Main");
    assertThat(image.environment(Component.SIDECAR, Map.of()))
        .containsExactly(Map.entry("JDK_JAVA_OPTIONS", "@/app/profiles/throughput.options"));
    assertThat(
            image
                .withCommand(Component.ROUTER, List.of("java", "Router"))
                .environment(Component.ROUTER, Map.of()))
        .as("a component without profiles gets none, whatever runs it")
        .isEmpty();
    assertThat(
            Launcher.jars(repo)
                .withCommand(Component.SIDECAR, List.of("java"))
                .environment(Component.SIDECAR, Map.of("JDK_JAVA_OPTIONS", "-agentpath:/p.so")))
        .as("JVM arguments given besides: the profile first, then them")
        .containsExactly(
            Map.entry("JDK_JAVA_OPTIONS", "@/app/profiles/compact.options -agentpath:/p.so"));
  }

  @Test
  void aMissingProfileFileIsNamedBeforeAnythingStarts() throws Exception {
    Launcher launcher = Launcher.classpath(repo, "/cp");
    assertThat(launcher.missing()).containsExactly("sidecar/profiles/compact.options");

    Files.createDirectories(repo.resolve("sidecar/profiles"));
    Files.writeString(
        repo.resolve("sidecar/profiles/compact.options"), "-XX:TieredStopAtLevel=1\n");
    assertThat(launcher.missing()).isEmpty();
    assertThat(launcher.withSidecarProfile(SidecarProfile.THROUGHPUT).missing())
        .containsExactly("sidecar/profiles/throughput.options");
  }

  @Test
  void withoutTheUnpackedLibrariesNoLibraryPathIsGiven() throws Exception {
    Files.createDirectories(repo.resolve("sidecar"));
    Files.writeString(repo.resolve("sidecar/jvm.options"), "-Xmx32m\n");

    assertThat(Launcher.jars(repo).command(Component.SIDECAR, List.of()))
        .noneMatch(option -> option.startsWith("-Djava.library.path"));
  }
}

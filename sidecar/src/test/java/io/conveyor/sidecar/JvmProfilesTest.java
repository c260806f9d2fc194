package io.conveyor.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.common.contract.SidecarProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The sidecar's JVM options: {@code jvm.options} and the JIT profiles of {@code profiles/}, each a
 * java argfile. The image gives a profile in {@code JDK_JAVA_OPTIONS}, which the java launcher puts
 * before the command line's {@code @jvm.options}: a flag in both would be decided by {@code
 * jvm.options}, and the pod's choice would silently not count. (ImagesTest checks the same in the
 * image itself, as root; this runs anywhere.)
 */
class JvmProfilesTest {

  static final Path JVM_OPTIONS = Path.of("jvm.options");

  static Path profileFile(SidecarProfile profile) {
    return Path.of("profiles", profile.fileName());
  }

  /** The names of the {@code -XX:} flags an argfile sets (comments and other options aside). */
  static Set<String> xxFlags(Path argfile) throws IOException {
    Set<String> names = new TreeSet<>();
    for (String line : Files.readAllLines(argfile)) {
      String option = line.strip();
      if (option.startsWith("-XX:")) {
        String flag = option.substring(4).replaceFirst("^[+-]", "");
        int eq = flag.indexOf('=');
        names.add(eq < 0 ? flag : flag.substring(0, eq));
      }
    }
    return names;
  }

  @Test
  void everyProfileHasAFileAndJvmOptionsSetsNoneOfTheirFlags() throws IOException {
    Set<String> shared = xxFlags(JVM_OPTIONS);
    assertThat(shared).contains("UseSerialGC", "MaxMetaspaceSize");
    for (SidecarProfile profile : SidecarProfile.values()) {
      Set<String> own = xxFlags(profileFile(profile));
      assertThat(own).as("%s sets JIT flags", profile).isNotEmpty();
      assertThat(shared)
          .as("jvm.options would override %s's %s", profile, own)
          .doesNotContainAnyElementsOf(own);
    }
  }

  /** The flags a real JVM ends up with, given the options in the image's order. */
  static Map<String, String> finalFlags(SidecarProfile profile) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder =
        new ProcessBuilder(java.toString(), "@" + JVM_OPTIONS, "-XX:+PrintFlagsFinal", "-version")
            .redirectErrorStream(true);
    // As the image runs it: the profile from the environment, jvm.options on the command line.
    builder.environment().put(SidecarProfile.JVM_OPTIONS_VARIABLE, "@" + profileFile(profile));
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    Map<String, String> flags = new HashMap<>();
    output
        .lines()
        .map(String::strip)
        .map(l -> l.split("\\s+"))
        .filter(f -> f.length >= 4 && f[2].equals("="))
        .forEach(f -> flags.put(f[1], f[3]));
    assertThat(flags).as(output).isNotEmpty();
    return flags;
  }

  @ParameterizedTest
  @EnumSource(SidecarProfile.class)
  void eachProfileDecidesTheCompilersAndJvmOptionsTheRest(SidecarProfile profile) throws Exception {
    Map<String, String> flags = finalFlags(profile);

    switch (profile) {
      case COMPACT ->
          assertThat(flags)
              .containsEntry("TieredStopAtLevel", "1")
              .containsEntry("CICompilerCount", "1")
              .containsEntry("ReservedCodeCacheSize", Long.toString(24L << 20));
      case THROUGHPUT ->
          assertThat(flags)
              .containsEntry("TieredCompilation", "true")
              .containsEntry("TieredStopAtLevel", "4")
              .containsEntry("CICompilerCount", "2")
              .containsEntry("ReservedCodeCacheSize", Long.toString(48L << 20));
    }
    assertThat(flags)
        .containsEntry("UseSerialGC", "true")
        .containsEntry("MaxHeapSize", Long.toString(32L << 20));
  }

  @Test
  void theProfilesDifferInTheirCompilersOnly() throws Exception {
    Map<String, String> compact = finalFlags(SidecarProfile.COMPACT);
    Map<String, String> throughput = finalFlags(SidecarProfile.THROUGHPUT);
    for (String heapOrGc : List.of("MaxHeapSize", "NewSize", "ThreadStackSize", "UseSerialGC")) {
      assertThat(throughput.get(heapOrGc)).as(heapOrGc).isEqualTo(compact.get(heapOrGc));
    }
  }
}

package io.conveyor.router.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.config.ConfigException;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.tls.TlsProvider;
import io.conveyor.router.standalone.StandaloneRouterConfig.Security;
import io.conveyor.router.standalone.StandaloneRouterConfig.SecurityMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StandaloneRouterConfigTest {

  @Test
  void defaults() {
    StandaloneRouterConfig config = StandaloneRouterConfig.from(Map.of(), List.of());

    assertThat(config)
        .isEqualTo(
            new StandaloneRouterConfig(
                "0.0.0.0",
                50051,
                9095,
                Path.of("pipelines"),
                Duration.ofSeconds(5),
                10_000,
                Duration.ofSeconds(10),
                16,
                new Security(SecurityMode.MTLS, Path.of(".conveyor/ca"), Optional.empty())));
  }

  @Test
  void everyVariableIsRead() {
    StandaloneRouterConfig config =
        StandaloneRouterConfig.from(
            Map.ofEntries(
                Map.entry("BIND_ADDRESS", "127.0.0.1"),
                Map.entry("ROUTER_PORT", "6000"),
                Map.entry("METRICS_PORT", "6001"),
                Map.entry("PIPELINES_DIR", "/etc/conveyor/pipelines"),
                Map.entry("PIPELINES_RESCAN_SECS", "30"),
                Map.entry("MAX_SIDECARS", "50"),
                Map.entry("ROUTER_WARMUP_SECS", "0"),
                Map.entry("ROUTER_SUBSET_SIZE", "8"),
                Map.entry("SECURITY_MODE", "plaintext"),
                Map.entry("CA_DIR", "/var/lib/conveyor/ca"),
                Map.entry("BOOTSTRAP_TOKEN", "sixteen-chars-at-least"),
                Map.entry("TLS_PROVIDER", "jdk"),
                Map.entry("CERTIFICATE_TTL_SECS", "20")),
            List.of());

    assertThat(config)
        .isEqualTo(
            new StandaloneRouterConfig(
                "127.0.0.1",
                6000,
                6001,
                Path.of("/etc/conveyor/pipelines"),
                Duration.ofSeconds(30),
                50,
                Duration.ZERO,
                8,
                new Security(
                    SecurityMode.PLAINTEXT,
                    Path.of("/var/lib/conveyor/ca"),
                    Optional.of(new EnrolmentCredential.BootstrapToken("sixteen-chars-at-least")),
                    TlsProvider.JDK,
                    Duration.ofSeconds(20))));
  }

  @Test
  void blankValuesMeanTheDefault() {
    assertThat(
            StandaloneRouterConfig.from(
                Map.of("ROUTER_PORT", "  ", "PIPELINES_DIR", ""), List.of()))
        .isEqualTo(StandaloneRouterConfig.from(Map.of(), List.of()));
  }

  @Test
  void aSingleArgumentIsThePipelinesFolderAndWinsOverTheEnvironment() {
    assertThat(
            StandaloneRouterConfig.from(
                    Map.of("PIPELINES_DIR", "/from/env"), List.of("examples/pipelines"))
                .pipelinesDir())
        .isEqualTo(Path.of("examples/pipelines"));
  }

  @Test
  void pipelinesOptionNamesTheFolder() {
    assertThat(
            StandaloneRouterConfig.from(Map.of(), List.of("--pipelines", "/srv/p")).pipelinesDir())
        .isEqualTo(Path.of("/srv/p"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "ROUTER_PORT           | abc     | ROUTER_PORT='abc' is not valid: expected an integer from 1 to 65535",
        "ROUTER_PORT           | 0       | ROUTER_PORT='0' is not valid: expected an integer from 1 to 65535",
        "METRICS_PORT          | 70000   | METRICS_PORT='70000' is not valid: expected an integer from 1 to 65535",
        "PIPELINES_RESCAN_SECS | 0       | PIPELINES_RESCAN_SECS='0' is not valid: expected an integer from 1 to 3600",
        "PIPELINES_RESCAN_SECS | 5s      | PIPELINES_RESCAN_SECS='5s' is not valid: expected an integer from 1 to 3600",
        "MAX_SIDECARS          | -1      | MAX_SIDECARS='-1' is not valid: expected an integer from 1 to 1000000",
        "MAX_SIDECARS          | lots    | MAX_SIDECARS='lots' is not valid: expected an integer from 1 to 1000000",
        "ROUTER_WARMUP_SECS    | -1      | ROUTER_WARMUP_SECS='-1' is not valid: expected an integer from 0 to 600",
        "ROUTER_WARMUP_SECS    | 601     | ROUTER_WARMUP_SECS='601' is not valid: expected an integer from 0 to 600",
        "ROUTER_SUBSET_SIZE    | 0       | ROUTER_SUBSET_SIZE='0' is not valid: expected an integer from 1 to 1000",
        "ROUTER_SUBSET_SIZE    | all     | ROUTER_SUBSET_SIZE='all' is not valid: expected an integer from 1 to 1000",
        "SECURITY_MODE         | tls     | SECURITY_MODE='tls' is not valid: expected one of mtls, plaintext",
        "BIND_ADDRESS          | router.local | BIND_ADDRESS='router.local' is not valid: expected an IP address to listen on, e.g. 0.0.0.0",
        "BIND_ADDRESS          | 0.0.0.0:50051 | BIND_ADDRESS='0.0.0.0:50051' is not valid: expected an IP address to listen on, e.g. 0.0.0.0",
        "BOOTSTRAP_TOKEN       | short   | BOOTSTRAP_TOKEN holds a token of 5 characters; at least 16 are required",
        "CERTIFICATE_TTL_SECS  | 4       | CERTIFICATE_TTL_SECS='4' is not valid: expected an integer from 5 to 2592000",
        "CERTIFICATE_TTL_SECS  | 2592001 | CERTIFICATE_TTL_SECS='2592001' is not valid: expected an integer from 5 to 2592000",
        "CERTIFICATE_TTL_SECS  | 20s     | CERTIFICATE_TTL_SECS='20s' is not valid: expected an integer from 5 to 2592000",
      })
  void aMalformedValueFailsNamingTheVariableAndWhatIsAccepted(
      String variable, String value, String problem) {
    assertThatThrownBy(() -> StandaloneRouterConfig.from(Map.of(variable, value), List.of()))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.problems()).containsExactly(problem));
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                StandaloneRouterConfig.from(
                    Map.of("ROUTER_PORT", "abc", "MAX_SIDECARS", "0"), List.of("a", "b", "c")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.problems()).hasSize(3);
              assertThat(e.getMessage())
                  .contains("ROUTER_PORT='abc'")
                  .contains("MAX_SIDECARS='0'")
                  .contains("arguments [a, b, c] not understood");
            });
  }

  @Test
  void theSamePortForGrpcAndMetricsIsRefused() {
    assertThatThrownBy(() -> StandaloneRouterConfig.from(Map.of("ROUTER_PORT", "9095"), List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ROUTER_PORT and METRICS_PORT must differ, both are 9095");
  }

  @Test
  void unknownArgumentsAreRefusedWithTheAcceptedForms() {
    for (List<String> args :
        List.of(
            List.of("--pipelines"),
            List.of("--pipelines=/x"),
            List.of("--port", "1"),
            List.of("a", "b"))) {
      assertThatThrownBy(() -> StandaloneRouterConfig.from(Map.of(), args))
          .as("arguments %s", args)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("expected none, <pipelines-dir> or --pipelines <dir>");
    }
  }

  @TempDir Path temp;

  @Test
  void theBootstrapTokenIsReadFromItsFileWithoutTheTrailingNewline() throws Exception {
    Path file = Files.writeString(temp.resolve("token"), "a-token-from-a-file-0123\n");

    assertThat(
            StandaloneRouterConfig.from(Map.of("BOOTSTRAP_TOKEN_FILE", file.toString()), List.of())
                .security()
                .bootstrapToken())
        .contains(new EnrolmentCredential.BootstrapToken("a-token-from-a-file-0123"));
  }

  @Test
  void anUnreadableTokenFileIsOneLineNamingTheVariable() {
    Path missing = temp.resolve("no-such-token");

    assertThatThrownBy(
            () ->
                StandaloneRouterConfig.from(
                    Map.of("BOOTSTRAP_TOKEN_FILE", missing.toString()), List.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .startsWith("BOOTSTRAP_TOKEN_FILE='" + missing + "' cannot be read: ")
                    .doesNotContain("\n"));
  }

  @Test
  void aShortTokenInAFileIsRefusedWithoutPrintingIt() throws Exception {
    Path file = Files.writeString(temp.resolve("token"), "hunter2\n");

    assertThatThrownBy(
            () ->
                StandaloneRouterConfig.from(
                    Map.of("BOOTSTRAP_TOKEN_FILE", file.toString()), List.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "BOOTSTRAP_TOKEN_FILE='"
                            + file
                            + "' holds a token of 7 characters; at least 16 are required"))
        .message()
        .doesNotContain("hunter2");
  }

  @Test
  void aTokenAndATokenFileTogetherAreRefused() throws Exception {
    Path file = Files.writeString(temp.resolve("token"), "a-token-from-a-file-0123");

    assertThatThrownBy(
            () ->
                StandaloneRouterConfig.from(
                    Map.of(
                        "BOOTSTRAP_TOKEN_FILE",
                        file.toString(),
                        "BOOTSTRAP_TOKEN",
                        "a-token-from-the-environment"),
                    List.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly("set BOOTSTRAP_TOKEN_FILE or BOOTSTRAP_TOKEN, not both"))
        .message()
        .doesNotContain("a-token-from-the-environment");
  }

  @Test
  void theConfigNeverPrintsTheToken() {
    StandaloneRouterConfig config =
        StandaloneRouterConfig.from(
            Map.of("BOOTSTRAP_TOKEN", "a-token-from-the-environment"), List.of());

    assertThat(config.toString()).doesNotContain("a-token-from-the-environment");
  }
}

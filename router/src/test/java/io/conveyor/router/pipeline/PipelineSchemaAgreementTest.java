package io.conveyor.router.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.testkit.CrdSchema;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same Pipeline YAML is accepted by both or refused by both: the standalone router's loader and
 * validator, and a cluster's API server with the CRD of {@code crds/} (its openAPIV3Schema, checked
 * with a JSON-schema validator under the API server's structural rules, see {@link CrdSchema}).
 * Every example pipeline must be accepted by both.
 */
class PipelineSchemaAgreementTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final CrdSchema CRD =
      CrdSchema.load(ROOT.resolve("crds/pipelines.conveyor.etl-v1.yml"), "v1");

  private static final String HEAD =
      """
      apiVersion: conveyor.etl/v1
      kind: Pipeline
      metadata:
        name: p
      """;

  /** A name for the report, the YAML, and whether both must accept it. */
  static Stream<Arguments> documents() throws IOException {
    List<Arguments> cases = new ArrayList<>();
    try (DirectoryStream<Path> examples =
        Files.newDirectoryStream(ROOT.resolve("examples/pipelines"), "*.{yaml,yml}")) {
      for (Path example : examples) {
        cases.add(
            Arguments.of(
                "examples/pipelines/" + example.getFileName(), Files.readString(example), "true"));
      }
    }
    assertThat(cases).as("example pipelines").isNotEmpty();
    String[][] specs = {
      // name, spec (indented under spec:), accepted: true, false, or "gap" (see KNOWN_GAPS)
      {"minimal", "source: a\nsink: b", "true"},
      {
        "steps and delivery",
        "source: a\nsteps: [t1, t2]\nsink: b\ndelivery: {maxBatchSize: 10000, maxRetries: 0, retryBackoffMillis: 1, batchTimeoutSeconds: 600, deadLetterSink: dlq}",
        "true"
      },
      {"null steps", "source: a\nsteps: null\nsink: b", "true"},
      {"no sink", "source: a", "false"},
      {"null sink", "source: a\nsink: null", "false"},
      {"upper-case source", "source: Orders\nsink: b", "false"},
      {"source too long", "source: " + "a".repeat(64) + "\nsink: b", "false"},
      {"bad step name", "source: a\nsteps: [Mask_PII]\nsink: b", "gap"},
      {"unknown spec field", "source: a\nsink: b\nsinks: [c]", "false"},
      {"unknown delivery option", "source: a\nsink: b\ndelivery: {maxBatch: 5}", "false"},
      {"maxBatchSize 0", "source: a\nsink: b\ndelivery: {maxBatchSize: 0}", "false"},
      {"maxBatchSize 10001", "source: a\nsink: b\ndelivery: {maxBatchSize: 10001}", "false"},
      {"maxRetries -1", "source: a\nsink: b\ndelivery: {maxRetries: -1}", "false"},
      {
        "batchTimeoutSeconds 601",
        "source: a\nsink: b\ndelivery: {batchTimeoutSeconds: 601}",
        "false"
      },
      {"fractional maxRetries", "source: a\nsink: b\ndelivery: {maxRetries: 1.5}", "false"},
      {"maxBatchSize as a string", "source: a\nsink: b\ndelivery: {maxBatchSize: \"10\"}", "false"},
      {"source as a number", "source: 123\nsink: b", "false"},
      {"source as a boolean", "source: true\nsink: b", "false"},
      {"steps as a string", "source: a\nsteps: t1\nsink: b", "false"},
      {"bad deadLetterSink", "source: a\nsink: b\ndelivery: {deadLetterSink: DLQ}", "false"},
      {"sink is the source", "source: a\nsink: a", "gap"},
      {"a step repeated", "source: a\nsteps: [t, t]\nsink: b", "gap"},
      {"a step is the sink", "source: a\nsteps: [b]\nsink: b", "gap"},
      {"deadLetterSink is a stage", "source: a\nsink: b\ndelivery: {deadLetterSink: b}", "gap"},
    };
    for (String[] spec : specs) {
      cases.add(Arguments.of(spec[0], HEAD + "spec:\n" + spec[1].indent(2), spec[2]));
    }
    cases.add(Arguments.of("no spec", HEAD, "false"));
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void theRouterAndTheCrdAgree(String name, String yaml, String accepted) {
    PipelineYamlLoader.Result router = new PipelineYamlLoader().loadDocuments(name, yaml);
    List<String> cluster = CRD.validateYaml(yaml);

    boolean gap = accepted.equals("gap");
    assertThat(router.problems().isEmpty())
        .as("standalone router accepts %s: %s", name, router.problems())
        .isEqualTo(accepted.equals("true"));
    // KNOWN_GAPS: checks on the items of steps and across fields that only PipelineValidator makes.
    // The API server stores such a Pipeline and the operator reports it Invalid (the same
    // validator); standalone, the router refuses the file. Closing them needs
    // x-kubernetes-validations (CEL) on the generated CRD, with maxItems/maxLength so that the API
    // server's cost budget admits them. When the CRD refuses them, this assertion fails: move the
    // cases to "false".
    assertThat(cluster.isEmpty())
        .as("the CRD schema accepts %s: %s", name, cluster)
        .isEqualTo(accepted.equals("true") || gap);
  }
}

package io.conveyor.router.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.conveyor.testkit.CrdSchema;
import io.conveyor.testkit.CrdValidationRules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same Pipeline YAML is accepted by both or refused by both: the standalone router's loader and
 * validator, and a cluster's API server with the CRD of {@code crds/}: its openAPIV3Schema, checked
 * with a JSON-schema validator under the API server's structural rules (see {@link CrdSchema}), and
 * its CEL rules, evaluated by Google's CEL engine (see {@link CrdValidationRules}). Every example
 * pipeline must be accepted by both, and every CEL rule must refuse one of the cases on its own.
 */
class PipelineSchemaAgreementTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final CrdSchema CRD =
      CrdSchema.load(ROOT.resolve("crds/pipelines.conveyor.etl-v1.yml"), "v1");
  private static final CrdValidationRules RULES = CrdValidationRules.of(CRD);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

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
    // The README's Pipeline examples too: what a reader copies must load and apply.
    Matcher block =
        Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(ROOT.resolve("README.md")));
    int readmeExamples = 0;
    while (block.find()) {
      if (block.group(1).contains("kind: Pipeline")) {
        cases.add(Arguments.of("README.md Pipeline " + ++readmeExamples, block.group(1), "true"));
      }
    }
    assertThat(readmeExamples).as("Pipeline examples in README.md").isPositive();
    String[][] specs = {
      // name, spec (indented under spec:), whether both accept it
      {"minimal", "source: a\nsink: b", "true"},
      {
        "steps and delivery",
        "source: a\nsteps: [t1, t2]\nsink: b\ndelivery: {maxBatchSize: 10000, maxRetries: 0, retryBackoffMillis: 1, batchTimeoutSeconds: 600, deadLetterSink: dlq}",
        "true"
      },
      {"null steps", "source: a\nsteps: null\nsink: b", "true"},
      {"null delivery", "source: a\nsink: b\ndelivery: null", "true"},
      {"a null step", "source: a\nsteps: [t, null]\nsink: b", "false"},
      {"empty source", "source: ''\nsink: b", "false"},
      {"no sink", "source: a", "false"},
      {"null sink", "source: a\nsink: null", "false"},
      {"upper-case source", "source: Orders\nsink: b", "false"},
      {"source too long", "source: " + "a".repeat(64) + "\nsink: b", "false"},
      {"bad step name", "source: a\nsteps: [Mask_PII]\nsink: b", "false"},
      {"step name too long", "source: a\nsteps: [" + "t".repeat(64) + "]\nsink: b", "false"},
      {"32 steps", "source: a\nsteps: [" + steps(32) + "]\nsink: b", "true"},
      {"33 steps", "source: a\nsteps: [" + steps(33) + "]\nsink: b", "false"},
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
      {"sink is the source", "source: a\nsink: a", "false"},
      {"a step repeated", "source: a\nsteps: [t, u, t]\nsink: b", "false"},
      {"a step is the source", "source: a\nsteps: [t, a]\nsink: b", "false"},
      {"a step is the sink", "source: a\nsteps: [b]\nsink: b", "false"},
      {"deadLetterSink is the sink", "source: a\nsink: b\ndelivery: {deadLetterSink: b}", "false"},
      {
        "deadLetterSink is the source", "source: a\nsink: b\ndelivery: {deadLetterSink: a}", "false"
      },
      {
        "deadLetterSink is a step",
        "source: a\nsteps: [t]\nsink: b\ndelivery: {deadLetterSink: t}",
        "false"
      },
    };
    for (String[] spec : specs) {
      cases.add(Arguments.of(spec[0], HEAD + "spec:\n" + spec[1].indent(2), spec[2]));
    }
    cases.add(Arguments.of("no spec", HEAD, "false"));
    String spec = "spec:\n  source: a\n  sink: b\n";
    String[][] metadata = {
      // name, metadata (indented under metadata:), whether both accept it
      {"dotted name and a namespace", "name: orders.v2\nnamespace: shop", "true"},
      {"no name", "namespace: shop", "false"},
      {"upper-case name", "name: Orders", "false"},
      {"name too long", "name: " + "a".repeat(254), "false"},
      {"upper-case namespace", "name: p\nnamespace: Shop", "false"},
      {"namespace with a dot", "name: p\nnamespace: team.a", "false"},
    };
    for (String[] m : metadata) {
      cases.add(
          Arguments.of(
              m[0],
              "apiVersion: conveyor.etl/v1\nkind: Pipeline\nmetadata:\n" + m[1].indent(2) + spec,
              m[2]));
    }
    return cases.stream();
  }

  private static String steps(int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add("t" + i);
    }
    return String.join(", ", names);
  }

  /** What the cluster answers: schema problems, then the CEL rules' violations. */
  private static List<String> cluster(String yaml) {
    List<String> problems = new ArrayList<>(CRD.validateYaml(yaml));
    RULES.validate(readYaml(yaml)).forEach(v -> problems.add(v.toString()));
    return problems;
  }

  private static JsonNode readYaml(String yaml) {
    try {
      return YAML.readTree(yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void theRouterAndTheClusterAgree(String name, String yaml, String accepted) {
    PipelineYamlLoader.Result router = new PipelineYamlLoader().loadDocuments(name, yaml);
    List<String> cluster = cluster(yaml);

    assertThat(router.problems().isEmpty())
        .as("standalone router accepts %s: %s", name, router.problems())
        .isEqualTo(Boolean.parseBoolean(accepted));
    assertThat(cluster.isEmpty())
        .as("the cluster (CRD schema and CEL rules) accepts %s: %s", name, cluster)
        .isEqualTo(Boolean.parseBoolean(accepted));
  }

  @Test
  void everyCelRuleRefusesACaseTheSchemaAcceptsAndPassesEveryAcceptedOne() throws IOException {
    Set<CrdValidationRules.Rule> refusedAlone = new HashSet<>();
    documents()
        .forEach(
            arguments -> {
              String name = (String) arguments.get()[0];
              String yaml = (String) arguments.get()[1];
              boolean accepted = Boolean.parseBoolean((String) arguments.get()[2]);
              List<CrdValidationRules.Violation> violations = RULES.validate(readYaml(yaml));
              if (accepted) {
                assertThat(violations).as("CEL rules on accepted %s", name).isEmpty();
              } else if (CRD.validateYaml(yaml).isEmpty()) {
                violations.forEach(v -> refusedAlone.add(v.rule()));
              }
            });

    assertThat(RULES.rules()).as("CEL rules of the Pipeline CRD").hasSize(5);
    assertThat(refusedAlone)
        .as("rules that refuse a case the schema alone accepts")
        .containsExactlyInAnyOrderElementsOf(RULES.rules());
  }

  @Test
  void everyListAndStringTheRulesReadIsBoundedForTheApiServersCostBudget() {
    assertThat(RULES.unboundedUnderRules()).isEmpty();
  }

  /** The cluster's message for each cross-field case reads as the router's does. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      textBlock =
          """
          source: a; sink: a | spec.sink | 'a' repeats the stage at spec.source (each stage may appear once)
          source: a; steps: [t, u, t]; sink: b | spec.steps | 't' appears more than once (each stage may appear once)
          source: a; steps: [t, a]; sink: b | spec.steps | 'a' repeats the stage at spec.source (each stage may appear once)
          source: a; steps: [b]; sink: b | spec.sink | 'b' repeats a stage of spec.steps (each stage may appear once)
          source: a; sink: b; delivery: {deadLetterSink: b} | spec.delivery.deadLetterSink | 'b' repeats a stage of the pipeline (each stage may appear once)
          """)
  void theClusterNamesTheRepeatedStage(String spec, String path, String message) {
    String yaml = HEAD + "spec:\n" + spec.replace("; ", "\n").indent(2);

    List<CrdValidationRules.Violation> violations = RULES.validate(readYaml(yaml));
    assertThat(violations)
        .extracting(CrdValidationRules.Violation::path, CrdValidationRules.Violation::message)
        .containsExactly(tuple(path, message));
    // The router's own line for the same document names the same field and stage.
    assertThat(new PipelineYamlLoader().loadDocuments("p.yaml", yaml).problems())
        .singleElement()
        .asString()
        .contains(path)
        .contains(message.substring(0, message.indexOf('\'', 1) + 1));
  }
}

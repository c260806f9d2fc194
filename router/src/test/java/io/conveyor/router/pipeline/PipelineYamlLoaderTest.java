package io.conveyor.router.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineYamlLoaderTest {

  private final PipelineYamlLoader loader = new PipelineYamlLoader();

  @TempDir Path folder;

  static String pipeline(String name, String source, String sink) {
    return """
        apiVersion: conveyor.etl/v1
        kind: Pipeline
        metadata:
          name: %s
        spec:
          source: %s
          sink: %s
        """
        .formatted(name, source, sink);
  }

  private void write(String file, String text) throws IOException {
    Files.writeString(folder.resolve(file), text);
  }

  private static List<String> keys(PipelineYamlLoader.Result result) {
    return result.pipelines().stream().map(PipelineDefinition::key).toList();
  }

  @Test
  void readsAFullPipeline() {
    PipelineYamlLoader.Result result =
        loader.loadDocuments(
            "orders.yaml",
            """
            apiVersion: conveyor.etl/v1
            kind: Pipeline
            metadata:
              name: orders-etl
              namespace: shop
              generation: 4
            spec:
              source: orders
              steps: [mask-pii, enrich]
              sink: warehouse
              delivery:
                maxBatchSize: 250
                maxRetries: 5
                retryBackoffMillis: 50
                batchTimeoutSeconds: 10
                deadLetterSink: parking-lot
            """);

    assertThat(result.problems()).isEmpty();
    PipelineDefinition p = result.pipelines().get(0);
    assertThat(p.key()).isEqualTo("shop/orders-etl");
    assertThat(p.generation()).isEqualTo(4);
    assertThat(p.steps()).containsExactly("mask-pii", "enrich");
    assertThat(p.delivery().maxBatchSize()).isEqualTo(250);
    assertThat(p.delivery().maxRetries()).isEqualTo(5);
    assertThat(p.delivery().retryBackoff().toMillis()).isEqualTo(50);
    assertThat(p.delivery().batchTimeout().toSeconds()).isEqualTo(10);
    assertThat(p.stages()).last().extracting(Stage::name).isEqualTo("parking-lot");
  }

  @Test
  void namespaceDefaultsToDefaultAndGenerationToOne() {
    PipelineDefinition p =
        loader
            .loadDocuments("p.yaml", pipeline("orders-etl", "orders", "warehouse"))
            .pipelines()
            .get(0);

    assertThat(p.namespace()).isEqualTo("default");
    assertThat(p.generation()).isEqualTo(1);
  }

  @Test
  void aBlankOrNullNamespaceAlsoMeansDefault() {
    // Sidecars without a namespace are registered in "default"; a pipeline with namespace ""
    // would otherwise match no sidecar at all and never run.
    String blank =
        pipeline("a", "src", "snk").replace("  name: a\n", "  name: a\n  namespace: \"\"\n");
    String nulled =
        pipeline("b", "src", "snk").replace("  name: b\n", "  name: b\n  namespace: ~\n");

    PipelineYamlLoader.Result result = loader.loadDocuments("p.yaml", blank + "---\n" + nulled);

    assertThat(result.problems()).isEmpty();
    assertThat(keys(result)).containsExactly("default/a", "default/b");
  }

  @Test
  void aFileMayHoldSeveralDocumentsAndEmptyOnes() {
    String text =
        "---\n"
            + pipeline("first", "src-a", "snk-a")
            + "---\n"
            + "# nothing but a comment\n"
            + "---\n"
            + pipeline("second", "src-b", "snk-b")
            + "---\n";

    PipelineYamlLoader.Result result = loader.loadDocuments("many.yaml", text);

    assertThat(result.problems()).isEmpty();
    assertThat(keys(result)).containsExactly("default/first", "default/second");
  }

  @Test
  void anEmptyFileHasNoPipelinesAndNoProblems() {
    assertThat(loader.loadDocuments("empty.yaml", ""))
        .isEqualTo(new PipelineYamlLoader.Result(List.of(), List.of()));
    assertThat(loader.loadDocuments("blank.yaml", "\n---\n\n---\n").problems()).isEmpty();
  }

  @Test
  void aBadDocumentIsNamedByFileAndDocumentNumberAndTheOthersStillLoad() {
    String text =
        pipeline("good", "src", "snk")
            + "---\n"
            + pipeline("bad", "src", "src")
            + "---\n"
            + pipeline("also-good", "src2", "snk2");

    PipelineYamlLoader.Result result = loader.loadDocuments("mixed.yaml", text);

    assertThat(keys(result)).containsExactly("default/good", "default/also-good");
    assertThat(result.problems())
        .containsExactly(
            "mixed.yaml (document 2): pipeline 'bad' is invalid: spec.sink: 'src' repeats the"
                + " stage at spec.source (each stage may appear once)");
  }

  @Test
  void wrongApiVersionIsRejectedWithWhatWasExpected() {
    String text = pipeline("p", "src", "snk").replace("conveyor.etl/v1", "conveyor.etl/v1beta1");

    PipelineYamlLoader.Result result = loader.loadDocuments("p.yaml", text);

    assertThat(result.pipelines()).isEmpty();
    assertThat(result.problems())
        .containsExactly(
            "p.yaml: expected apiVersion conveyor.etl/v1 and kind Pipeline, found apiVersion"
                + " 'conveyor.etl/v1beta1' and kind 'Pipeline'");
  }

  @Test
  void otherKindsInTheSameFileAreRejectedByName() {
    String configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";

    PipelineYamlLoader.Result result =
        loader.loadDocuments("p.yaml", pipeline("p", "src", "snk") + "---\n" + configMap);

    assertThat(keys(result)).containsExactly("default/p");
    assertThat(result.problems())
        .singleElement()
        .asString()
        .startsWith("p.yaml (document 2): expected apiVersion conveyor.etl/v1 and kind Pipeline")
        .contains("kind 'ConfigMap'");
  }

  @Test
  void aDocumentThatIsNotAnObjectIsRejected() {
    assertThat(loader.loadDocuments("p.yaml", "just a string\n").problems())
        .containsExactly("p.yaml: expected a Pipeline object, found STRING");
    PipelineYamlLoader.Result list = loader.loadDocuments("p.yaml", "- a\n- b\n");
    assertThat(list.pipelines()).isEmpty();
    assertThat(list.problems()).isNotEmpty().allMatch(problem -> problem.startsWith("p.yaml"));
  }

  @Test
  void aMissingSpecIsRequired() {
    String text = "apiVersion: conveyor.etl/v1\nkind: Pipeline\nmetadata:\n  name: p\n";

    assertThat(loader.loadDocuments("p.yaml", text).problems())
        .containsExactly("p.yaml: pipeline 'p' is invalid: spec: required (source, steps, sink)");
  }

  @Test
  void brokenYamlNamesTheFileAndTheLine() {
    String text =
        """
        apiVersion: conveyor.etl/v1
        kind: Pipeline
        metadata:
          name: p
        spec:
          source: orders
           sink: warehouse
        """;

    assertThat(loader.loadDocuments("broken.yaml", text).problems())
        .containsExactly(
            "broken.yaml: not valid YAML: mapping values are not allowed here (line 7)");
  }

  @Test
  void brokenYamlAfterAGoodDocumentKeepsTheGoodOne() {
    String text = pipeline("good", "src", "snk") + "---\nspec: [unclosed\n";

    PipelineYamlLoader.Result result = loader.loadDocuments("half.yaml", text);

    assertThat(keys(result)).containsExactly("default/good");
    assertThat(result.problems())
        .singleElement()
        .asString()
        .startsWith("half.yaml: not valid YAML: ")
        .containsPattern("\\(line \\d+\\)$");
  }

  @Test
  void aDuplicateKeyIsRejectedRatherThanSilentlyTakingTheLastValue() {
    // kubectl refuses duplicate fields; a standalone router must not quietly pick one.
    String text =
        pipeline("p", "orders", "warehouse").replace("  sink:", "  source: refunds\n  sink:");

    PipelineYamlLoader.Result result = loader.loadDocuments("dup.yaml", text);

    assertThat(result.pipelines()).isEmpty();
    assertThat(result.problems())
        .containsExactly("dup.yaml: not valid YAML: Duplicate field 'source' (line 7)");
  }

  @Test
  void aWronglyTypedFieldIsNamedByItsPath() {
    String text = pipeline("p", "orders", "warehouse") + "  delivery:\n    maxBatchSize: lots\n";

    PipelineYamlLoader.Result result = loader.loadDocuments("typed.yaml", text);

    assertThat(result.pipelines()).isEmpty();
    assertThat(result.problems())
        .singleElement()
        .asString()
        .startsWith("typed.yaml: spec.delivery.maxBatchSize: ")
        .contains("\"lots\"")
        .doesNotContain("line -1");
  }

  @Test
  void stepsMustBeAList() {
    String text = pipeline("p", "orders", "warehouse") + "  steps: mask-pii\n";

    assertThat(loader.loadDocuments("typed.yaml", text).problems())
        .singleElement()
        .asString()
        .startsWith("typed.yaml: spec.steps: ");
  }

  @Test
  void aFractionalIntegerOptionIsRejectedNotTruncated() {
    // The CRD schema declares these as integers; the API server refuses 2.5, so must we.
    String text =
        pipeline("p", "orders", "warehouse") + "  delivery:\n    batchTimeoutSeconds: 2.5\n";

    PipelineYamlLoader.Result result = loader.loadDocuments("typed.yaml", text);

    assertThat(result.pipelines()).isEmpty();
    assertThat(result.problems())
        .singleElement()
        .asString()
        .startsWith("typed.yaml: spec.delivery.batchTimeoutSeconds: ");
  }

  @Test
  void unknownFieldsInTheFileAreNamed() {
    String text =
        pipeline("p", "orders", "warehouse") + "  sinks: [a]\n  delivery:\n    retries: 3\n";

    assertThat(loader.loadDocuments("p.yaml", text).problems())
        .containsExactly(
            "p.yaml: pipeline 'p' is invalid: spec.sinks: unknown field (known: source, steps,"
                + " sink, delivery); spec.delivery.retries: unknown option (known:"
                + " batchTimeoutSeconds, deadLetterSink, maxBatchSize, maxRetries,"
                + " retryBackoffMillis)");
  }

  @Test
  void folderLoadsYamlAndYmlFilesInNameOrderAndIgnoresOthers() throws IOException {
    write("b.yml", pipeline("from-b", "src-b", "snk-b"));
    write("a.yaml", pipeline("from-a", "src-a", "snk-a"));
    write("notes.txt", "not: yaml: at: all: [");
    write("c.yaml.bak", pipeline("backup", "src-c", "snk-c"));
    Files.createDirectory(folder.resolve("sub.yaml"));

    PipelineYamlLoader.Result result = loader.loadFolder(folder);

    assertThat(result.problems()).isEmpty();
    assertThat(keys(result)).containsExactly("default/from-a", "default/from-b");
  }

  @Test
  void aPipelineDefinedInTwoFilesKeepsTheFirstAndNamesBoth() throws IOException {
    write("a.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write("b.yaml", pipeline("orders-etl", "refunds", "ledger"));

    PipelineYamlLoader.Result result = loader.loadFolder(folder);

    assertThat(result.pipelines())
        .singleElement()
        .extracting(PipelineDefinition::source)
        .isEqualTo("orders");
    assertThat(result.problems())
        .containsExactly(
            "b.yaml: pipeline default/orders-etl is already defined in a.yaml; ignored");
  }

  @Test
  void theSameNameInTwoNamespacesIsTwoPipelines() throws IOException {
    write("a.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write(
        "b.yaml",
        pipeline("orders-etl", "orders", "warehouse")
            .replace("  name: orders-etl\n", "  name: orders-etl\n  namespace: team-b\n"));

    assertThat(keys(loader.loadFolder(folder)))
        .containsExactly("default/orders-etl", "team-b/orders-etl");
  }

  @Test
  void aBadFileInAFolderIsNamedAndTheOthersLoad() throws IOException {
    write("a-good.yaml", pipeline("good", "orders", "warehouse"));
    write("b-bad.yaml", "apiVersion: conveyor.etl/v1\nkind: Pipeline\nspec: {source: [\n");
    write("c-good.yaml", pipeline("other", "refunds", "ledger"));

    PipelineYamlLoader.Result result = loader.loadFolder(folder);

    assertThat(keys(result)).containsExactly("default/good", "default/other");
    assertThat(result.problems())
        .singleElement()
        .asString()
        .startsWith("b-bad.yaml: not valid YAML");
  }

  @Test
  void aMissingFolderIsOneProblem() {
    PipelineYamlLoader.Result result = loader.loadFolder(folder.resolve("nope"));

    assertThat(result.pipelines()).isEmpty();
    assertThat(result.problems()).singleElement().asString().contains("nope: cannot list folder");
  }

  @Test
  void anOversizedFileIsRefusedByName() throws IOException {
    write("huge.yaml", pipeline("p", "orders", "warehouse") + "#" + "x".repeat(1 << 20) + "\n");

    assertThat(loader.loadFolder(folder).problems())
        .containsExactly("huge.yaml: larger than 1048576 bytes");
  }
}

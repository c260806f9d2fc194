package io.conveyor.router.standalone;

import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.testing.RecordingSubscriber;
import io.conveyor.testkit.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineFolderWatcherTest {

  private static final String BROKEN =
      """
      apiVersion: conveyor.etl/v1
      kind: Pipeline
      metadata:
        name: refunds
      spec:
        source: refunds
         sink: ledger
      """;

  @TempDir Path folder;
  private RouterCore core;
  private PipelineFolderWatcher watcher;

  @BeforeEach
  void setUp() {
    core = new RouterCore(new MutableClock(), RouterSettings.defaults());
    watcher = new PipelineFolderWatcher(folder, core);
  }

  private static String pipeline(String name, String source, String sink) {
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

  private List<String> loaded() {
    return core.pipelines().stream().map(PipelineDefinition::key).toList();
  }

  @Test
  void aMalformedFileIsNamedWithItsProblemAndTheGoodOneIsServed() throws IOException {
    write("orders.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write("refunds.yaml", BROKEN);

    assertThat(watcher.poll()).isTrue();

    assertThat(loaded()).containsExactly("default/orders-etl");
    assertThat(watcher.problems())
        .containsExactly(
            "refunds.yaml: not valid YAML: mapping values are not allowed here (line 7)");
  }

  @Test
  void fixingTheFileLoadsItAndClearsTheProblem() throws IOException {
    write("orders.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write("refunds.yaml", BROKEN);
    watcher.poll();

    write("refunds.yaml", pipeline("refunds", "refunds", "ledger"));

    assertThat(watcher.poll()).isTrue();
    assertThat(loaded()).containsExactlyInAnyOrder("default/orders-etl", "default/refunds");
    assertThat(watcher.problems()).isEmpty();
  }

  @Test
  void anUnchangedFolderIsNotReloaded() throws IOException {
    write("orders.yaml", pipeline("orders-etl", "orders", "warehouse"));

    assertThat(watcher.poll()).isTrue();
    assertThat(watcher.poll()).isFalse();
    assertThat(loaded()).containsExactly("default/orders-etl");
  }

  @Test
  void deletingAFileRemovesItsPipelineAndRevokesItFromItsSidecars() throws IOException {
    write("orders.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write("refunds.yaml", pipeline("refunds", "orders", "ledger"));
    watcher.poll();
    long version =
        core.register(registration("sc-a", source("orders"), sink("ledger")))
            .getAssignments()
            .getVersion();
    RecordingSubscriber sidecar = new RecordingSubscriber();
    core.watch("sc-a", version, sidecar);

    Files.delete(folder.resolve("refunds.yaml"));

    assertThat(watcher.poll()).isTrue();
    assertThat(loaded()).containsExactly("default/orders-etl");
    assertThat(sidecar.commands())
        .filteredOn(Command::hasRevoke)
        .singleElement()
        .satisfies(c -> assertThat(c.getRevoke().getPipeline()).isEqualTo("refunds"));
    assertThat(sidecar.lastAssign().getPipelinesList())
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("orders-etl");
  }

  @Test
  void aNewFileReachesTheSidecarsThatRunItsStages() throws IOException {
    watcher.poll();
    long version =
        core.register(registration("sc-a", source("orders"), sink("warehouse")))
            .getAssignments()
            .getVersion();
    RecordingSubscriber sidecar = new RecordingSubscriber();
    core.watch("sc-a", version, sidecar);

    write("orders.yaml", pipeline("orders-etl", "orders", "warehouse"));
    watcher.poll();

    assertThat(sidecar.lastAssign().getPipelinesList())
        .extracting(PipelineAssignment::getPipeline)
        .containsExactly("orders-etl");
  }

  @Test
  void aFolderThatAppearsLaterIsPickedUp() throws IOException {
    Path later = folder.resolve("pipelines");
    PipelineFolderWatcher lateWatcher = new PipelineFolderWatcher(later, core);

    assertThat(lateWatcher.poll()).isTrue();
    assertThat(loaded()).isEmpty();
    assertThat(lateWatcher.problems()).singleElement().asString().contains("cannot list folder");
    assertThat(lateWatcher.poll()).isFalse();

    Files.createDirectory(later);
    Files.writeString(later.resolve("orders.yaml"), pipeline("orders-etl", "orders", "warehouse"));

    assertThat(lateWatcher.poll()).isTrue();
    assertThat(loaded()).containsExactly("default/orders-etl");
    assertThat(lateWatcher.problems()).isEmpty();
  }

  @Test
  void aPipelineDefinedTwiceIsServedOnceAndTheSecondFileIsNamed() throws IOException {
    write("a.yaml", pipeline("orders-etl", "orders", "warehouse"));
    write("b.yaml", pipeline("orders-etl", "refunds", "ledger"));

    watcher.poll();

    assertThat(core.pipelines())
        .singleElement()
        .extracting(PipelineDefinition::source)
        .isEqualTo("orders");
    assertThat(watcher.problems())
        .singleElement()
        .asString()
        .startsWith("b.yaml: ")
        .contains("a.yaml");
  }
}

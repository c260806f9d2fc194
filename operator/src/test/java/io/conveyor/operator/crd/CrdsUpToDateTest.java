package io.conveyor.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * crds/ holds the CRDs the build generates from the classes of this package (into target/crds); a
 * change to the classes without refreshing crds/ fails here.
 */
class CrdsUpToDateTest {

  private static final String REFRESH =
      "crds/ is out of date with the classes in io.conveyor.operator.crd; refresh it with:"
          + " mvn -B -pl operator process-classes -Pwrite-crds";

  @Test
  void theCheckedInCrdsAreTheGeneratedOnes() throws IOException {
    Path generated = Path.of(System.getProperty("crds.generated", "target/crds"));
    Path checkedIn = Path.of(System.getProperty("crds.checkedIn", "../crds"));

    TreeSet<String> generatedNames = ymlFiles(generated);
    TreeSet<String> checkedInNames = ymlFiles(checkedIn);
    assertThat(generatedNames).as("CRDs the build generated").isNotEmpty();
    assertThat(checkedInNames).as(REFRESH).isEqualTo(generatedNames);

    List<String> stale = new ArrayList<>();
    for (String name : generatedNames) {
      String expected = Files.readString(generated.resolve(name)).replace("\r\n", "\n");
      String actual = Files.readString(checkedIn.resolve(name)).replace("\r\n", "\n");
      if (!expected.equals(actual)) {
        stale.add(name);
      }
    }
    assertThat(stale).as(REFRESH).isEmpty();
  }

  @Test
  void theCrdsDescribeTheClasses() {
    assertThat(new ConveyorSidecar().getPlural()).isEqualTo("conveyorsidecars");
    assertThat(new ConveyorSidecar().getApiVersion()).isEqualTo("conveyor.etl/v1");
    assertThat(new Pipeline().getPlural()).isEqualTo("pipelines");
    assertThat(new Pipeline().getKind()).isEqualTo("Pipeline");
  }

  private static TreeSet<String> ymlFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    }
  }
}

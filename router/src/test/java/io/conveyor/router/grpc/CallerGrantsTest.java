package io.conveyor.router.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CallerGrantsTest {

  static Stream<Arguments> cases() {
    AssignmentSet ab = set(pipeline("p", stage(0), stage(1, "a", "b")));
    return Stream.of(
        Arguments.of("the same callers", ab, ab, false),
        Arguments.of("a caller added", set(pipeline("p", stage(0), stage(1, "a"))), ab, true),
        Arguments.of("a caller removed", ab, set(pipeline("p", stage(0), stage(1, "a"))), false),
        Arguments.of(
            "a caller replaced", ab, set(pipeline("p", stage(0), stage(1, "a", "c"))), true),
        Arguments.of("a pipeline with callers is new", set(), ab, true),
        Arguments.of(
            "a pipeline without callers is new (plaintext)",
            set(),
            set(pipeline("p", stage(0), stage(1))),
            false),
        Arguments.of(
            "a stage with callers is new to the pipeline",
            set(pipeline("p", stage(0))),
            set(pipeline("p", stage(0), stage(1, "a"))),
            true),
        Arguments.of(
            "callers are compared per pipeline: q's new ones count",
            ab,
            set(
                pipeline("q", stage(0), stage(1, "a", "b")),
                pipeline("p", stage(0), stage(1, "a"))),
            true),
        Arguments.of(
            "callers are compared per pipeline: p's are q's old ones",
            set(
                pipeline("q", stage(0), stage(1, "a", "b")),
                pipeline("p", stage(0), stage(1, "a"))),
            set(pipeline("q", stage(0), stage(1, "a")), pipeline("p", stage(0), stage(1, "a"))),
            false),
        Arguments.of("a pipeline gone", ab, set(), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void widensOnlyWhenSomeStageAdmitsACallerItDidNotBefore(
      String name, AssignmentSet sent, AssignmentSet next, boolean widens) {
    assertThat(CallerGrants.widens(sent, next)).as(name).isEqualTo(widens);
  }

  private static AssignmentSet set(PipelineAssignment... pipelines) {
    return AssignmentSet.newBuilder().setVersion(1).addAllPipelines(List.of(pipelines)).build();
  }

  private static PipelineAssignment pipeline(String name, StageAssignment... stages) {
    return PipelineAssignment.newBuilder().setPipeline(name).addAllStages(List.of(stages)).build();
  }

  private static StageAssignment stage(int index, String... callers) {
    return StageAssignment.newBuilder()
        .setIndex(index)
        .setName("s" + index)
        .setLocal(callers.length > 0)
        .addAllAllowedCallers(List.of(callers))
        .build();
  }
}

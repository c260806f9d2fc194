package io.conveyor.router.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.conveyor.router.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

class PipelineDefinitionTest {

  @Test
  void stagesAreSourceThenStepsInOrderThenSink() {
    PipelineDefinition p = Fixtures.pipeline("p", "orders", List.of("zeta", "alpha"), "warehouse");

    assertThat(p.stages())
        .extracting(Stage::index, Stage::name, Stage::role)
        .containsExactly(
            tuple(0, "orders", StageRole.SOURCE),
            tuple(1, "zeta", StageRole.TRANSFORM),
            tuple(2, "alpha", StageRole.TRANSFORM),
            tuple(3, "warehouse", StageRole.SINK));
  }

  @Test
  void withoutStepsTheSinkIsStageOne() {
    PipelineDefinition p = Fixtures.pipeline("p", "orders", List.of(), "warehouse");

    assertThat(p.stages())
        .extracting(Stage::index, Stage::name, Stage::role)
        .containsExactly(
            tuple(0, "orders", StageRole.SOURCE), tuple(1, "warehouse", StageRole.SINK));
  }

  @Test
  void deadLetterSinkIsTheLastStage() {
    PipelineDefinition p =
        Fixtures.withDeadLetter(
            Fixtures.pipeline("p", "orders", List.of("mask-pii"), "warehouse"), "parking-lot");

    assertThat(p.stages())
        .extracting(Stage::index, Stage::name, Stage::role)
        .containsExactly(
            tuple(0, "orders", StageRole.SOURCE),
            tuple(1, "mask-pii", StageRole.TRANSFORM),
            tuple(2, "warehouse", StageRole.SINK),
            tuple(3, "parking-lot", StageRole.DEAD_LETTER));
  }

  @Test
  void rolesMapToTheServiceTypeThatExecutesThemAndToTheWireRole() {
    assertThat(StageRole.DEAD_LETTER.serviceType()).isEqualTo(StageRole.SINK.serviceType());
    assertThat(StageRole.DEAD_LETTER.toProto())
        .isEqualTo(io.conveyor.etl.v1.StageRole.STAGE_ROLE_DEAD_LETTER);
    assertThat(StageRole.TRANSFORM.serviceType())
        .isEqualTo(io.conveyor.etl.v1.ServiceType.SERVICE_TYPE_TRANSFORM);
  }

  @Test
  void sameSpecIgnoresTheGenerationButNotTheStages() {
    PipelineDefinition p = Fixtures.pipeline("p", "orders", List.of("mask-pii"), "warehouse");

    assertThat(p.sameSpec(p.withGeneration(9))).isTrue();
    assertThat(p.sameSpec(Fixtures.pipeline("p", "orders", List.of(), "warehouse"))).isFalse();
    assertThat(p.withGeneration(9).generation()).isEqualTo(9);
  }
}

package io.conveyor.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrinterColumnOrderTest {

  private static final String GENERATED =
      """
      spec:
        versions:
        - additionalPrinterColumns:
          - jsonPath: ".metadata.creationTimestamp"
            name: "Age"
            type: "date"
          - jsonPath: ".status.phase"
            name: "Phase"
            type: "string"
          name: "v1"
          served: true
      """;

  @Test
  void columnsFollowTheGivenOrderAndNothingElseMoves() {
    String reordered = PrinterColumnOrder.reorder(GENERATED, List.of("Phase", "Age"));

    assertThat(reordered)
        .isEqualTo(
            """
            spec:
              versions:
              - additionalPrinterColumns:
                - jsonPath: ".status.phase"
                  name: "Phase"
                  type: "string"
                - jsonPath: ".metadata.creationTimestamp"
                  name: "Age"
                  type: "date"
                name: "v1"
                served: true
            """);
  }

  @Test
  void aColumnTheClassDoesNotDeclareIsAnError() {
    assertThatThrownBy(() -> PrinterColumnOrder.reorder(GENERATED, List.of("Phase")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'Age'");
  }

  @Test
  void theCheckedInCrdsListTheColumnsAsTheClassesDeclareThem() throws IOException {
    Path crds = Path.of(System.getProperty("crds.checkedIn", "../crds"));
    for (Class<? extends CustomResource<?, ?>> resource :
        List.of(ConveyorSidecar.class, Pipeline.class)) {
      CustomResourceDefinition crd =
          Serialization.unmarshal(
              Files.readString(crds.resolve(CustomResource.getCRDName(resource) + "-v1.yml")),
              CustomResourceDefinition.class);

      assertThat(crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns())
          .extracting(CustomResourceColumnDefinition::getName)
          .as(resource.getSimpleName())
          .containsExactlyElementsOf(PrinterColumnOrder.declaredColumns(resource));
    }
  }
}

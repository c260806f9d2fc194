package io.conveyor.router.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PipelineValidatorTest {

  private static PipelineSpec spec(String source, List<String> steps, String sink) {
    return new PipelineSpec(source, steps, sink, null);
  }

  private static PipelineSpec withDelivery(Consumer<DeliverySpec> settings) {
    DeliverySpec delivery = new DeliverySpec();
    settings.accept(delivery);
    return new PipelineSpec("orders", List.of("mask-pii"), "warehouse", delivery);
  }

  private static List<String> problems(PipelineSpec spec) {
    return problems("orders-etl", spec);
  }

  private static List<String> problems(String name, PipelineSpec spec) {
    PipelineValidation result = PipelineValidator.validate("default", name, 1, spec);
    assertThat(result).isInstanceOf(PipelineValidation.Invalid.class);
    return ((PipelineValidation.Invalid) result).problems();
  }

  private static PipelineDefinition valid(PipelineSpec spec) {
    PipelineValidation result = PipelineValidator.validate("team-a", "orders-etl", 7, spec);
    assertThat(result).isInstanceOf(PipelineValidation.Valid.class);
    return ((PipelineValidation.Valid) result).definition();
  }

  @Test
  void minimalPipelineIsValidAndCarriesItsIdentity() {
    PipelineDefinition definition = valid(spec("orders", List.of(), "warehouse"));

    assertThat(definition.namespace()).isEqualTo("team-a");
    assertThat(definition.name()).isEqualTo("orders-etl");
    assertThat(definition.generation()).isEqualTo(7);
    assertThat(definition.source()).isEqualTo("orders");
    assertThat(definition.steps()).isEmpty();
    assertThat(definition.sink()).isEqualTo("warehouse");
    assertThat(definition.key()).isEqualTo("team-a/orders-etl");
  }

  @Test
  void atMostMaxStepsStepsAreAllowedAsTheCrdsMaxItemsSays() {
    List<String> steps = new ArrayList<>();
    for (int i = 0; i < PipelineSpec.MAX_STEPS; i++) {
      steps.add("t" + i);
    }
    assertThat(valid(spec("orders", steps, "warehouse")).steps()).hasSize(32);

    steps.add("t32");
    assertThat(problems(spec("orders", steps, "warehouse")))
        .containsExactly("spec.steps: 33 steps, at most 32 are allowed");
  }

  @Test
  void missingOrNullStepsMeanNoSteps() {
    PipelineSpec spec = new PipelineSpec();
    spec.setSource("orders");
    spec.setSink("warehouse");
    spec.setSteps(null);

    assertThat(valid(spec).steps()).isEmpty();
  }

  @Test
  void unsetDeliveryOptionsResolveToTheDocumentedDefaults() {
    DeliveryOptions delivery = valid(spec("orders", List.of("mask-pii"), "warehouse")).delivery();

    assertThat(delivery.maxBatchSize()).isEqualTo(500);
    assertThat(delivery.maxRetries()).isEqualTo(3);
    assertThat(delivery.retryBackoff()).isEqualTo(Duration.ofMillis(100));
    assertThat(delivery.batchTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(delivery.deadLetterSink()).isEmpty();
    assertThat(DeliveryOptions.defaults()).isEqualTo(delivery);
  }

  @Test
  void setDeliveryOptionsOverrideOnlyTheirOwnDefault() {
    DeliveryOptions delivery =
        valid(
                withDelivery(
                    d -> {
                      d.setMaxRetries(0);
                      d.setBatchTimeoutSeconds(600);
                      d.setDeadLetterSink("parking-lot");
                    }))
            .delivery();

    assertThat(delivery.maxRetries()).isZero();
    assertThat(delivery.batchTimeout()).isEqualTo(Duration.ofMinutes(10));
    assertThat(delivery.deadLetterSink()).contains("parking-lot");
    assertThat(delivery.maxBatchSize()).isEqualTo(500);
    assertThat(delivery.retryBackoff()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void nullSpecIsRequired() {
    assertThat(problems(null)).containsExactly("spec: required (source, steps, sink)");
  }

  @Test
  void nullSpecStillReportsABadObjectName() {
    assertThat(problems("Bad_Name", null))
        .containsExactly(
            "metadata.name: 'Bad_Name' is not a DNS-1123 subdomain",
            "spec: required (source, steps, sink)");
  }

  @Test
  void missingSourceAndSinkAreNamed() {
    assertThat(problems(spec(null, List.of(), " ")))
        .containsExactly(
            "spec.source: required, the logical name of a service",
            "spec.sink: required, the logical name of a service");
  }

  @Test
  void aNullStepIsNamedByItsIndex() {
    assertThat(problems(spec("orders", Arrays.asList("mask-pii", null), "warehouse")))
        .containsExactly("spec.steps[1]: required, the logical name of a service");
  }

  static Stream<Arguments> repeatedStages() {
    return Stream.of(
        Arguments.of(
            spec("orders", List.of("orders"), "warehouse"),
            "spec.steps[0]: 'orders' repeats the stage at spec.source"),
        Arguments.of(
            spec("orders", List.of("mask-pii", "enrich", "mask-pii"), "warehouse"),
            "spec.steps[2]: 'mask-pii' repeats the stage at spec.steps[0]"),
        Arguments.of(
            spec("orders", List.of("mask-pii"), "mask-pii"),
            "spec.sink: 'mask-pii' repeats the stage at spec.steps[0]"),
        Arguments.of(
            spec("same", List.of(), "same"), "spec.sink: 'same' repeats the stage at spec.source"),
        Arguments.of(
            withDelivery(d -> d.setDeadLetterSink("warehouse")),
            "spec.delivery.deadLetterSink: 'warehouse' repeats the stage at spec.sink"),
        Arguments.of(
            withDelivery(d -> d.setDeadLetterSink("mask-pii")),
            "spec.delivery.deadLetterSink: 'mask-pii' repeats the stage at spec.steps[0]"));
  }

  @ParameterizedTest
  @MethodSource("repeatedStages")
  void aRepeatedStageNamesBothPaths(PipelineSpec spec, String expectedStart) {
    assertThat(problems(spec)).singleElement().asString().startsWith(expectedStart);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Orders", // upper case
        "mask_pii", // underscore
        "-orders", // leading dash
        "orders-", // trailing dash
        "mask.pii", // a subdomain, not a label
        "a234567890123456789012345678901234567890123456789012345678901234" // 64 characters
      })
  void aStageNameThatIsNotADns1123LabelIsRejectedWithAnExample(String bad) {
    assertThat(problems(spec("orders", List.of(bad), "warehouse")))
        .containsExactly(
            "spec.steps[0]: '"
                + bad
                + "' is not a service name (lower-case DNS-1123 label, e.g. mask-pii)");
  }

  @Test
  void longestLegalStageNameIsAccepted() {
    String longest = "a".repeat(63);
    assertThat(valid(spec(longest, List.of(), "warehouse")).source()).isEqualTo(longest);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Orders-ETL", "orders_etl", ".orders", "orders."})
  void aBadPipelineNameIsRejected(String bad) {
    assertThat(problems(bad, spec("orders", List.of(), "warehouse")))
        .containsExactly("metadata.name: '" + bad + "' is not a DNS-1123 subdomain");
  }

  @Test
  void aMissingPipelineNameIsRejected() {
    assertThat(problems(null, spec("orders", List.of(), "warehouse")))
        .containsExactly("metadata.name: 'null' is not a DNS-1123 subdomain");
  }

  @Test
  void theNamespaceMustBeADns1123LabelAsOnACluster() {
    for (String bad : new String[] {"Shop", "team.a", "-x", ""}) {
      assertThat(PipelineValidator.validate(bad, "orders", 1, spec("orders", List.of(), "wh")))
          .as(bad)
          .isEqualTo(
              new PipelineValidation.Invalid(
                  List.of("metadata.namespace: '" + bad + "' is not a DNS-1123 label")));
    }
    assertThat(PipelineValidator.validate("team-a", "orders", 1, spec("orders", List.of(), "wh")))
        .isInstanceOf(PipelineValidation.Valid.class);
  }

  @Test
  void pipelineNamesMayContainDots() {
    assertThat(
            PipelineValidator.validate("default", "orders.v2", 1, spec("orders", List.of(), "wh")))
        .isInstanceOf(PipelineValidation.Valid.class);
  }

  static Stream<Arguments> outOfRangeDelivery() {
    return Stream.of(
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setMaxBatchSize(0),
            "spec.delivery.maxBatchSize: 0 is out of range 1-10000"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setMaxBatchSize(10_001),
            "spec.delivery.maxBatchSize: 10001 is out of range 1-10000"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setMaxRetries(-1),
            "spec.delivery.maxRetries: -1 is out of range 0-100"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setMaxRetries(101),
            "spec.delivery.maxRetries: 101 is out of range 0-100"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setRetryBackoffMillis(0L),
            "spec.delivery.retryBackoffMillis: 0 is out of range 1-60000"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setRetryBackoffMillis(60_001L),
            "spec.delivery.retryBackoffMillis: 60001 is out of range 1-60000"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setBatchTimeoutSeconds(0),
            "spec.delivery.batchTimeoutSeconds: 0 is out of range 1-600"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setBatchTimeoutSeconds(601),
            "spec.delivery.batchTimeoutSeconds: 601 is out of range 1-600"),
        Arguments.of(
            (Consumer<DeliverySpec>) d -> d.setDeadLetterSink("Parking_Lot"),
            "spec.delivery.deadLetterSink: 'Parking_Lot' is not a service name"));
  }

  @ParameterizedTest
  @MethodSource("outOfRangeDelivery")
  void outOfRangeDeliveryOptionsAreNamedWithTheirBounds(
      Consumer<DeliverySpec> settings, String expected) {
    assertThat(problems(withDelivery(settings))).singleElement().asString().startsWith(expected);
  }

  @Test
  void deliveryBoundsAreInclusive() {
    PipelineDefinition low =
        valid(
            withDelivery(
                d -> {
                  d.setMaxBatchSize(1);
                  d.setMaxRetries(0);
                  d.setRetryBackoffMillis(1L);
                  d.setBatchTimeoutSeconds(1);
                }));
    PipelineDefinition high =
        valid(
            withDelivery(
                d -> {
                  d.setMaxBatchSize(10_000);
                  d.setMaxRetries(100);
                  d.setRetryBackoffMillis(60_000L);
                  d.setBatchTimeoutSeconds(600);
                }));

    assertThat(low.delivery().maxBatchSize()).isEqualTo(1);
    assertThat(high.delivery().retryBackoff()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void unknownSpecFieldsAreNamedWithTheKnownOnes() {
    PipelineSpec spec = spec("orders", List.of(), "warehouse");
    spec.putUnknownField("sinks", List.of("a"));
    spec.putUnknownField("parallelism", 3);

    assertThat(problems(spec))
        .containsExactly(
            "spec.sinks: unknown field (known: source, steps, sink, delivery)",
            "spec.parallelism: unknown field (known: source, steps, sink, delivery)");
  }

  @Test
  void unknownDeliveryOptionsAreNamedWithTheKnownOnes() {
    PipelineSpec spec = withDelivery(d -> d.putUnknownField("maxBatchBytes", 1024));

    assertThat(problems(spec))
        .containsExactly(
            "spec.delivery.maxBatchBytes: unknown option (known: batchTimeoutSeconds, "
                + "deadLetterSink, maxBatchSize, maxRetries, retryBackoffMillis)");
  }

  @Test
  void everyProblemIsReportedAtOnceAndJoinedForStatus() {
    PipelineSpec spec = spec("Orders", List.of("orders"), null);
    spec.putUnknownField("typo", true);
    PipelineValidation.Invalid invalid =
        (PipelineValidation.Invalid) PipelineValidator.validate("default", "p", 1, spec);

    assertThat(invalid.problems()).hasSize(3);
    assertThat(invalid.message())
        .isEqualTo(
            "spec.typo: unknown field (known: source, steps, sink, delivery); "
                + "spec.source: 'Orders' is not a service name (lower-case DNS-1123 label, e.g."
                + " mask-pii); "
                + "spec.sink: required, the logical name of a service");
  }

  @Test
  void validatedDefinitionDoesNotChangeWhenTheSpecIsMutatedLater() {
    List<String> steps = new ArrayList<>(List.of("mask-pii"));
    PipelineSpec spec = new PipelineSpec("orders", steps, "warehouse", null);
    PipelineDefinition definition = valid(spec);

    spec.getSteps().add("enrich");

    assertThat(definition.steps()).containsExactly("mask-pii");
    assertThat(definition.delivery().deadLetterSink()).isEqualTo(Optional.empty());
  }
}

package io.conveyor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrdValidationRulesTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode yaml(String text) {
    try {
      return YAML.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A schema with a rule at the root, on an object, on array items, and a transition rule. */
  private static final String SCHEMA =
      """
      type: object
      x-kubernetes-validations:
      - rule: "self.metadata.name != self.spec.name"
        message: "spec.name must differ from the object's name"
      properties:
        spec:
          type: object
          x-kubernetes-validations:
          - rule: "self.min <= self.max"
            fieldPath: ".max"
            message: "max below min"
            messageExpression: "'max ' + string(self.max) + ' is below min ' + string(self.min)"
          - rule: "!has(self.tags) || self.tags.all(t, self.tags.exists_one(u, u == t))"
            message: "tags repeat"
          - rule: "self.mode == oldSelf.mode"
            message: "mode is immutable"
          properties:
            name: {type: string, maxLength: 10}
            mode: {type: string, enum: [a, b]}
            min: {type: integer}
            max: {type: integer}
            tags:
              type: array
              maxItems: 4
              items:
                type: string
                maxLength: 8
                x-kubernetes-validations:
                - rule: "self.startsWith('t-')"
                  message: "a tag starts with t-"
      """;

  private static final CrdValidationRules RULES = CrdValidationRules.ofSchema("test", yaml(SCHEMA));

  private static JsonNode object(String spec) {
    return yaml("apiVersion: x/v1\nkind: X\nmetadata: {name: obj}\nspec:\n" + spec.indent(2));
  }

  @Test
  void aGoodObjectPassesEveryRule() {
    assertThat(RULES.rules()).hasSize(5);
    assertThat(RULES.validate(object("name: n\nmode: a\nmin: 1\nmax: 2\ntags: [t-1, t-2]")))
        .isEmpty();
  }

  @Test
  void eachRuleFailsABadObjectAtItsPathWithItsMessage() {
    List<String> violations =
        RULES.validate(object("name: obj\nmode: a\nmin: 3\nmax: 2\ntags: [t-1, x, t-1]")).stream()
            .map(Object::toString)
            .toList();

    assertThat(violations)
        .containsExactlyInAnyOrder(
            "<root>: Invalid value: \"object\": spec.name must differ from the object's name",
            "spec.max: Invalid value: \"object\": max 2 is below min 3",
            "spec: Invalid value: \"object\": tags repeat",
            "spec.tags[1]: Invalid value: \"string\": a tag starts with t-");
  }

  @Test
  void aFailingMessageExpressionFallsBackToTheMessage() {
    JsonNode schema =
        yaml(
            """
            type: object
            x-kubernetes-validations:
            - rule: "self.a > 0"
              message: "a must be positive"
              messageExpression: "'a is ' + string(1 / (self.a - self.a))"
            properties:
              a: {type: integer}
            """);

    assertThat(CrdValidationRules.ofSchema("t", schema).validate(yaml("a: 0")))
        .extracting(CrdValidationRules.Violation::message)
        .containsExactly("a must be positive");
  }

  @Test
  void aTransitionRuleRunsOnlyOnAnUpdate() {
    JsonNode before = object("name: n\nmode: a\nmin: 1\nmax: 2");
    JsonNode after = object("name: n\nmode: b\nmin: 1\nmax: 2");

    assertThat(RULES.validate(after)).isEmpty();
    assertThat(RULES.validateUpdate(after, before))
        .extracting(Object::toString)
        .containsExactly("spec: Invalid value: \"object\": mode is immutable");
    assertThat(RULES.validateUpdate(after, after)).isEmpty();
  }

  @Test
  void anAbsentFieldTheRuleReadsIsAnEvaluationErrorAndAFailure() {
    // As on the API server: no such key is an error, and an error refuses the object.
    assertThat(RULES.validate(object("name: n\nmode: a\nmin: 1")))
        .extracting(CrdValidationRules.Violation::path, v -> v.message().startsWith("error"))
        .containsExactly(org.assertj.core.groups.Tuple.tuple("spec.max", true));
  }

  @Test
  void nullsTheSchemaDoesNotAllowArePrunedBeforeTheRulesRun() {
    assertThat(RULES.validate(object("name: n\nmode: a\nmin: 1\nmax: 2\ntags: null"))).isEmpty();
  }

  @Test
  void aRuleNamingAFieldTheSchemaDoesNotHaveDoesNotCompile() {
    JsonNode schema =
        yaml(
            """
            type: object
            x-kubernetes-validations:
            - rule: "self.sinks != self.source"
            properties:
              source: {type: string, maxLength: 5}
              sink: {type: string, maxLength: 5}
            """);

    assertThatThrownBy(() -> CrdValidationRules.ofSchema("t", schema))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("self.sinks != self.source")
        .hasMessageContaining("does not compile");
  }

  @Test
  void aRuleThatIsNotBooleanOrUsesAnExtensionOrOptionalOldSelfIsRefused() {
    for (String rule :
        List.of(
            "rule: \"self.source\"",
            "rule: \"self.source.isURL()\"",
            "rule: \"self.source == oldSelf.source\"\n  optionalOldSelf: true")) {
      JsonNode schema =
          yaml(
              "type: object\nx-kubernetes-validations:\n- "
                  + rule
                  + "\nproperties:\n  source: {type: string, maxLength: 5}\n");
      assertThatThrownBy(() -> CrdValidationRules.ofSchema("t", schema))
          .as(rule)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void unboundedListsAndStringsUnderARuleAreNamed() {
    assertThat(RULES.unboundedUnderRules()).isEmpty();
    JsonNode schema =
        yaml(
            """
            type: object
            properties:
              free: {type: string}
              spec:
                type: object
                x-kubernetes-validations:
                - rule: "self.items.all(i, i.size() < 5)"
                properties:
                  items:
                    type: array
                    items: {type: string}
            """);

    assertThat(CrdValidationRules.ofSchema("t", schema).unboundedUnderRules())
        .containsExactly(
            ".spec.items: array without maxItems", ".spec.items[*]: string without maxLength");
  }
}

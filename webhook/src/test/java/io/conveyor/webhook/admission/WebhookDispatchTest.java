package io.conveyor.webhook.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.testkit.RenderedManifests;
import io.conveyor.webhook.admission.WebhookDispatch.Decision;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The evaluator itself: selectors and the API server's rules for match conditions. */
class WebhookDispatchTest {

  private static JsonNode yaml(String text) {
    try {
      return RenderedManifests.parse(text).get(0);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static WebhookDispatch configuration(String failurePolicy, String... expressions) {
    StringBuilder conditions = new StringBuilder();
    for (int i = 0; i < expressions.length; i++) {
      conditions
          .append("      - name: c")
          .append(i)
          .append("\n        expression: \"")
          .append(expressions[i].replace("\"", "\\\""))
          .append("\"\n");
    }
    return new WebhookDispatch(
        yaml(
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: MutatingWebhookConfiguration
            metadata: {name: test}
            webhooks:
              - name: w.example
                clientConfig: {service: {name: s, namespace: n, path: /p}}
                rules:
                  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
                failurePolicy: %s
                matchConditions:
            %s"""
                .formatted(failurePolicy, conditions.toString().indent(4).stripTrailing())));
  }

  private static Decision decide(WebhookDispatch dispatch, String pod) {
    return dispatch.decide(WebhookDispatch.Request.createPod("shop", Map.of(), yaml(pod))).get(0);
  }

  private static final String PLAIN = "metadata: {name: p}\nspec: {containers: [{name: a}]}";
  private static final String ANNOTATED =
      "metadata: {name: p, annotations: {a: 'true'}}\nspec: {containers: [{name: a}]}";

  @Test
  void allConditionsTrueCallsTheWebhook() {
    WebhookDispatch dispatch =
        configuration("Fail", "has(object.metadata.annotations)", "request.operation == 'CREATE'");

    assertThat(decide(dispatch, ANNOTATED)).isEqualTo(new Decision.Call("w.example", "/p"));
    assertThat(decide(dispatch, PLAIN)).isInstanceOf(Decision.Skip.class);
  }

  @Test
  void anEvaluationErrorRejectsTheRequestUnderFailAndSkipsUnderIgnore() {
    // No has() guard: a pod without annotations makes the expression fail (no such key).
    String unguarded = "object.metadata.annotations['a'] == 'true'";

    Decision fail = decide(configuration("Fail", unguarded), PLAIN);
    Decision ignore = decide(configuration("Ignore", unguarded), PLAIN);

    assertThat(fail).isInstanceOf(Decision.Reject.class);
    assertThat(((Decision.Reject) fail).message())
        .contains("w.example")
        .contains("failed to evaluate match conditions");
    assertThat(ignore).isInstanceOf(Decision.Skip.class);
    assertThat(decide(configuration("Fail", unguarded), ANNOTATED))
        .isInstanceOf(Decision.Call.class);
  }

  @Test
  void aFalseConditionWinsOverAnError() {
    Decision decision =
        decide(configuration("Fail", "object.metadata.annotations['a'] == 'true'", "false"), PLAIN);

    assertThat(decision).isInstanceOf(Decision.Skip.class);
  }

  @Test
  void aConditionThatDoesNotCompileOrUsesTheAuthorizerIsRefused() {
    assertThatThrownBy(() -> configuration("Fail", "object.metadata.("))
        .hasMessageContaining("does not compile");
    assertThatThrownBy(() -> configuration("Fail", "authorizer.requestResource.check('x')"))
        .hasMessageContaining("authorizer");
  }

  @Test
  void labelSelectorsFollowKubernetesRules() {
    Map<String, String> labels = Map.of("a", "1", "b", "2");

    assertThat(LabelSelector.matches(null, labels)).isTrue();
    assertThat(LabelSelector.matches(yaml("{}"), labels)).isTrue();
    assertThat(LabelSelector.matches(yaml("matchLabels: {a: '1'}"), labels)).isTrue();
    assertThat(LabelSelector.matches(yaml("matchLabels: {a: '2'}"), labels)).isFalse();
    String in = "matchExpressions: [{key: %s, operator: %s, values: [%s]}]";
    assertThat(LabelSelector.matches(yaml(in.formatted("a", "In", "'1', '3'")), labels)).isTrue();
    assertThat(LabelSelector.matches(yaml(in.formatted("c", "In", "'1'")), labels)).isFalse();
    assertThat(LabelSelector.matches(yaml(in.formatted("a", "NotIn", "'1'")), labels)).isFalse();
    assertThat(LabelSelector.matches(yaml(in.formatted("c", "NotIn", "'1'")), labels))
        .as("NotIn matches an absent label")
        .isTrue();
    String exists = "matchExpressions: [{key: %s, operator: %s}]";
    assertThat(LabelSelector.matches(yaml(exists.formatted("a", "Exists")), labels)).isTrue();
    assertThat(LabelSelector.matches(yaml(exists.formatted("c", "Exists")), labels)).isFalse();
    assertThat(LabelSelector.matches(yaml(exists.formatted("c", "DoesNotExist")), labels)).isTrue();
    assertThat(
            LabelSelector.matches(
                yaml("matchLabels: {a: '1'}\n" + in.formatted("b", "In", "'3'")), labels))
        .as("matchLabels and matchExpressions are ANDed")
        .isFalse();
    assertThatThrownBy(() -> LabelSelector.matches(yaml(exists.formatted("a", "In")), labels))
        .hasMessageContaining("need values");
    assertThatThrownBy(() -> LabelSelector.matches(yaml(exists.formatted("a", "Gt")), labels))
        .hasMessageContaining("not In, NotIn");
  }

  @Test
  void anObjectSelectorIsNotMatchedByTheMissingOldObjectOfACreate() {
    JsonNode configuration =
        yaml(
            """
            kind: MutatingWebhookConfiguration
            webhooks:
              - name: w.example
                clientConfig: {service: {path: /p}}
                rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
                objectSelector:
                  matchExpressions: [{key: x, operator: NotIn, values: ['true']}]
            """);
    WebhookDispatch dispatch = new WebhookDispatch(configuration);

    assertThat(
            dispatch
                .decide(
                    WebhookDispatch.Request.createPod(
                        "shop", Map.of(), yaml("metadata: {name: p, labels: {x: 'true'}}")))
                .get(0))
        .isEqualTo(new Decision.Skip("w.example", "objectSelector"));
  }
}

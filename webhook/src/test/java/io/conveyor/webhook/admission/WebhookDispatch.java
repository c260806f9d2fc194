package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.conveyor.testkit.CelValues;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code MutatingWebhookConfiguration} as the API server applies it to one request, so that a
 * test can ask "is this webhook called for this pod?" of the manifests a user installs.
 *
 * <p>Per webhook, in the API server's order: the {@code rules} (operation, group, version,
 * resource, scope), the {@code namespaceSelector} on the namespace's labels (including the {@code
 * kubernetes.io/metadata.name} label the API server puts on every namespace), the {@code
 * objectSelector} on the object's labels (or the old object's), then the {@code matchConditions},
 * compiled and evaluated with Google's CEL ({@code dev.cel}) with the variables {@code object},
 * {@code oldObject} and {@code request} as JSON-like maps. The conditions decide as the API server
 * documents: any {@code false} skips the webhook (even if another errs); all {@code true} calls it;
 * otherwise an evaluation error <b>rejects the request</b> when {@code failurePolicy} is {@code
 * Fail} (the default) and skips the webhook when it is {@code Ignore}.
 *
 * <p>An expression that uses {@code authorizer} is refused at construction: this evaluator has no
 * authorizer, and pretending would make a test pass that a cluster could fail.
 */
final class WebhookDispatch {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the API server does with one webhook entry for one request. */
  sealed interface Decision {
    String webhook();

    /** The webhook is called at {@code path} of its service. */
    record Call(String webhook, String path) implements Decision {}

    /** Not called: {@code why} names the rule, selector or condition that left it out. */
    record Skip(String webhook, String why) implements Decision {}

    /** The request is refused before any call: a match condition failed to evaluate. */
    record Reject(String webhook, String message) implements Decision {}
  }

  /** The pod-creation request the API server is admitting. */
  record Request(
      String operation,
      String namespace,
      Map<String, String> namespaceLabels,
      JsonNode object,
      JsonNode oldObject) {

    static Request createPod(String namespace, Map<String, String> namespaceLabels, JsonNode pod) {
      return new Request("CREATE", namespace, namespaceLabels, pod, null);
    }

    /** The namespace's labels as the API server keeps them: with its name as a label. */
    Map<String, String> effectiveNamespaceLabels() {
      Map<String, String> labels = new HashMap<>(namespaceLabels);
      labels.put("kubernetes.io/metadata.name", namespace);
      return labels;
    }

    /** The AdmissionRequest fields a match condition can read as {@code request}. */
    ObjectNode admissionRequest() {
      ObjectNode request = JSON.createObjectNode();
      request.put("uid", "00000000-0000-0000-0000-000000000000");
      request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
      request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
      request.put("namespace", namespace);
      request.put("operation", operation);
      request.putObject("userInfo").put("username", "system:serviceaccount:kube-system:test");
      request.put("dryRun", false);
      String name = object == null ? "" : object.path("metadata").path("name").asText("");
      request.put("name", name);
      return request;
    }
  }

  private record Condition(String name, String expression, CelRuntime.Program program) {}

  private record Webhook(JsonNode spec, List<Condition> conditions) {
    String name() {
      return spec.path("name").asText();
    }
  }

  private final List<Webhook> webhooks;

  /** Compiles every match condition of {@code configuration}; a bad one fails here, named. */
  WebhookDispatch(JsonNode configuration) {
    if (!"MutatingWebhookConfiguration".equals(configuration.path("kind").asText())) {
      throw new IllegalArgumentException(
          "expected a MutatingWebhookConfiguration, got " + configuration.path("kind"));
    }
    Cel cel =
        CelFactory.standardCelBuilder()
            // has(), all(), exists(), map(), filter(): the API server enables the standard macros.
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("request", SimpleType.DYN)
            .setResultType(SimpleType.BOOL)
            .build();
    List<Webhook> compiled = new ArrayList<>();
    for (JsonNode webhook : configuration.path("webhooks")) {
      List<Condition> conditions = new ArrayList<>();
      for (JsonNode condition : webhook.path("matchConditions")) {
        String name = condition.path("name").asText();
        String expression = condition.path("expression").asText();
        String where = webhook.path("name").asText() + " matchCondition " + name;
        if (expression.contains("authorizer")) {
          throw new IllegalArgumentException(
              where + " uses authorizer, which this evaluator does not provide");
        }
        try {
          CelAbstractSyntaxTree ast = cel.compile(expression).getAst();
          conditions.add(new Condition(name, expression, cel.createProgram(ast)));
        } catch (CelValidationException | CelEvaluationException e) {
          // The API server refuses to store a configuration whose condition does not compile.
          throw new IllegalArgumentException(where + " does not compile: " + e.getMessage(), e);
        }
      }
      compiled.add(new Webhook(webhook, conditions));
    }
    this.webhooks = List.copyOf(compiled);
  }

  List<String> webhookNames() {
    return webhooks.stream().map(Webhook::name).toList();
  }

  /** The decision for every webhook entry, in the configuration's order. */
  List<Decision> decide(Request request) {
    return webhooks.stream().map(w -> decide(w, request)).toList();
  }

  private static Decision decide(Webhook webhook, Request request) {
    JsonNode spec = webhook.spec();
    String name = webhook.name();
    if (!rulesMatch(spec.path("rules"), request)) {
      return new Decision.Skip(name, "rules: not a pod " + request.operation());
    }
    if (!LabelSelector.matches(spec.get("namespaceSelector"), request.effectiveNamespaceLabels())) {
      return new Decision.Skip(name, "namespaceSelector");
    }
    if (!objectSelected(spec.get("objectSelector"), request)) {
      return new Decision.Skip(name, "objectSelector");
    }
    Map<String, Object> variables = new LinkedHashMap<>();
    variables.put("object", CelValues.of(request.object()));
    variables.put("oldObject", CelValues.of(request.oldObject()));
    variables.put("request", CelValues.of(request.admissionRequest()));
    List<String> errors = new ArrayList<>();
    for (Condition condition : webhook.conditions()) {
      Object result;
      try {
        result = condition.program().eval(variables);
      } catch (CelEvaluationException e) {
        errors.add(condition.name() + ": " + e.getMessage());
        continue;
      }
      if (Boolean.FALSE.equals(result)) {
        return new Decision.Skip(name, "matchCondition " + condition.name() + " is false");
      }
      if (!Boolean.TRUE.equals(result)) {
        errors.add(condition.name() + ": evaluated to " + result + ", not a bool");
      }
    }
    if (errors.isEmpty()) {
      return new Decision.Call(
          name, spec.path("clientConfig").path("service").path("path").asText());
    }
    if ("Ignore".equals(spec.path("failurePolicy").asText("Fail"))) {
      return new Decision.Skip(name, "matchConditions failed, failurePolicy Ignore: " + errors);
    }
    return new Decision.Reject(
        name,
        "failed calling webhook \""
            + name
            + "\": failed to evaluate match conditions: "
            + String.join("; ", errors));
  }

  private static boolean rulesMatch(JsonNode rules, Request request) {
    for (JsonNode rule : rules) {
      if (listed(rule.path("operations"), request.operation())
          && listed(rule.path("apiGroups"), "")
          && listed(rule.path("apiVersions"), "v1")
          && listed(rule.path("resources"), "pods")
          && (rule.path("scope").isMissingNode() || listed(rule.path("scope"), "Namespaced"))) {
        return true;
      }
    }
    return false;
  }

  private static boolean listed(JsonNode values, String value) {
    if (values.isTextual()) {
      return values.asText().equals(value) || values.asText().equals("*");
    }
    for (JsonNode v : values) {
      if (v.asText().equals(value) || v.asText().equals("*")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The objectSelector matches if the new or the old object matches; a null object (the old one of
   * a CREATE) matches nothing, as the API server documents.
   */
  private static boolean objectSelected(JsonNode selector, Request request) {
    return (present(request.object()) && LabelSelector.matches(selector, labels(request.object())))
        || (present(request.oldObject())
            && LabelSelector.matches(selector, labels(request.oldObject())));
  }

  private static boolean present(JsonNode object) {
    return object != null && !object.isNull() && !object.isMissingNode();
  }

  private static Map<String, String> labels(JsonNode object) {
    Map<String, String> labels = new HashMap<>();
    if (object != null) {
      object
          .path("metadata")
          .path("labels")
          .properties()
          .forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
    }
    return labels;
  }
}

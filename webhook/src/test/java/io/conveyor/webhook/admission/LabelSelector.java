package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes {@code metav1.LabelSelector} as the API server applies it to namespaces and objects
 * of a webhook: {@code matchLabels} and {@code matchExpressions} are ANDed; a missing or empty
 * selector matches everything; {@code In}/{@code NotIn} take a non-empty value list, {@code
 * Exists}/{@code DoesNotExist} none. {@code NotIn} matches an object without the label, as in
 * Kubernetes. A malformed selector is an error, as the API server refuses to store one.
 */
final class LabelSelector {

  private LabelSelector() {}

  static boolean matches(JsonNode selector, Map<String, String> labels) {
    if (selector == null || selector.isMissingNode() || selector.isNull()) {
      return true;
    }
    boolean match = true;
    for (Map.Entry<String, JsonNode> e : selector.path("matchLabels").properties()) {
      match &= e.getValue().asText().equals(labels.get(e.getKey()));
    }
    for (JsonNode requirement : selector.path("matchExpressions")) {
      match &= requirement(requirement, labels);
    }
    return match;
  }

  private static boolean requirement(JsonNode requirement, Map<String, String> labels) {
    String key = requirement.path("key").asText("");
    String operator = requirement.path("operator").asText("");
    List<String> values = new ArrayList<>();
    requirement.path("values").forEach(v -> values.add(v.asText()));
    if (key.isEmpty()) {
      throw new IllegalArgumentException(
          "label selector requirement without a key: " + requirement);
    }
    boolean needsValues = operator.equals("In") || operator.equals("NotIn");
    if (needsValues == values.isEmpty()) {
      throw new IllegalArgumentException(
          "label selector requirement "
              + requirement
              + ": In and NotIn need values, Exists and DoesNotExist none");
    }
    String value = labels.get(key);
    return switch (operator) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      default ->
          throw new IllegalArgumentException(
              "label selector operator '"
                  + operator
                  + "' is not In, NotIn, Exists or DoesNotExist");
    };
  }
}

package io.conveyor.operator.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Compares statuses by what they serialize to, i.e. by what the API server would store: an empty
 * list and an absent one are the same, and no field can be forgotten in a hand-written equals.
 */
public final class StatusComparison {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private StatusComparison() {}

  public static boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    JsonNode left = SERIALIZATION.convertValue(a, JsonNode.class);
    JsonNode right = SERIALIZATION.convertValue(b, JsonNode.class);
    return left.equals(right);
  }
}

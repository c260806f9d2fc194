package io.conveyor.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.values.NullValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON tree as the values CEL sees for an unstructured Kubernetes object: objects are maps with
 * string keys, arrays lists, integers {@code int} (Long), other numbers {@code double}, JSON null
 * CEL's {@code null}. This is how the API server hands {@code object}, {@code oldObject} and {@code
 * request} to matchConditions, and {@code self} to CRD validation rules.
 */
public final class CelValues {

  private CelValues() {}

  public static Object of(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return NullValue.NULL_VALUE;
    }
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.properties().forEach(e -> map.put(e.getKey(), of(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(e -> list.add(of(e)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}

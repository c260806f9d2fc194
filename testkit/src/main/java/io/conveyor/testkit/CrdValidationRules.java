package io.conveyor.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code x-kubernetes-validations} (CEL rules) of a CRD's schema, compiled and evaluated with
 * Google's CEL engine ({@code dev.cel}) the way the API server evaluates them:
 *
 * <ul>
 *   <li>each rule is compiled against the type the schema gives {@code self} at its node: an object
 *       with {@code properties} is a struct whose fields are exactly those (a rule naming another
 *       field does not compile, as the API server refuses such a CRD), {@code additionalProperties}
 *       a map, arrays lists, {@code integer} int, {@code number} double, {@code string} string, and
 *       {@code x-kubernetes-int-or-string} or {@code x-kubernetes-preserve-unknown-fields} dyn;
 *   <li>a rule runs wherever its node has a value, with {@code self} that value: once per element
 *       of an array, once per entry of a map; nulls the schema does not allow are pruned first, as
 *       the API server prunes them before validating;
 *   <li>a transition rule (one that names {@code oldSelf}) runs only on an update, where the old
 *       object has a value at the same place (object fields and map entries correlate; array
 *       elements do not, as for any list that is not {@code x-kubernetes-list-type: map});
 *   <li>a failed rule reports its {@code messageExpression} if that evaluates to a string, else its
 *       {@code message}, else the rule, at the node's path plus its {@code fieldPath}; a rule that
 *       cannot be evaluated (an error, not false) is a failure too, as on the API server.
 * </ul>
 *
 * <p>Only standard CEL with its macros is available: a rule calling one of the Kubernetes extension
 * libraries (e.g. {@code isURL}, {@code quantity}) fails to compile here, naming the rule, rather
 * than being skipped. {@code optionalOldSelf} is refused the same way. The API server's cost budget
 * is not computed; {@link #unboundedUnderRules} lists what it would need bounded.
 */
public final class CrdValidationRules {

  /**
   * One rule of the CRD, at the schema path of its node ({@code .spec.steps[*]}), whose schema
   * {@code type} the API server names in its error.
   */
  public record Rule(
      String schemaPath, String type, String rule, String message, String fieldPath) {
    @Override
    public String toString() {
      return schemaPath + " " + rule;
    }
  }

  /** One failed rule on one object: where, which rule, and what the user reads. */
  public record Violation(String path, Rule rule, String message) {
    /** As the API server words it: {@code spec.sink: Invalid value: "object": <message>}. */
    @Override
    public String toString() {
      return path + ": Invalid value: \"" + rule.type() + "\": " + message;
    }
  }

  private record Compiled(
      Rule rule,
      boolean transition,
      CelRuntime.Program program,
      Optional<CelRuntime.Program> messageProgram) {}

  /** A schema node: its rules, and the nodes below it. */
  private record Node(
      List<Compiled> rules,
      JsonNode schema,
      Map<String, Node> properties,
      Node items,
      Node additional) {}

  private static final String ROOT_TYPE = "selfType";

  private final String name;
  private final Node root;
  private final List<Rule> rules = new ArrayList<>();
  private final List<String> unbounded = new ArrayList<>();
  private final Map<String, CelType> structs = new LinkedHashMap<>();

  private CrdValidationRules(String name, JsonNode openApiSchema) {
    this.name = name;
    this.root = node(openApiSchema, "", ROOT_TYPE, false);
  }

  /** The rules of the schema {@code crd} holds (see {@link CrdSchema#openApiSchema()}). */
  public static CrdValidationRules of(CrdSchema crd) {
    return new CrdValidationRules(crd.toString(), crd.openApiSchema());
  }

  /** The rules of a bare {@code openAPIV3Schema}, for a schema that is not in a CRD file. */
  public static CrdValidationRules ofSchema(String name, JsonNode openApiSchema) {
    return new CrdValidationRules(name, openApiSchema);
  }

  /** Every rule, in schema order. */
  public List<Rule> rules() {
    return List.copyOf(rules);
  }

  /**
   * Arrays without {@code maxItems}, strings without {@code maxLength} (or an enum) and maps
   * without {@code maxProperties} at or below a node with rules. The API server estimates each
   * rule's worst-case cost from these bounds and refuses a CRD over its budget; an unbounded list
   * or string that a rule iterates or matches is what puts it over.
   */
  public List<String> unboundedUnderRules() {
    return List.copyOf(unbounded);
  }

  /** The violations of creating {@code object}; empty when every rule holds. */
  public List<Violation> validate(JsonNode object) {
    return validateUpdate(object, null);
  }

  /** The violations of replacing {@code old} with {@code object}, transition rules included. */
  public List<Violation> validateUpdate(JsonNode object, JsonNode old) {
    List<Violation> violations = new ArrayList<>();
    walk(root, prune(object, root), old == null ? null : prune(old, root), "", violations);
    return violations;
  }

  @Override
  public String toString() {
    return name + " (" + rules.size() + " rules)";
  }

  // --- compiling ---------------------------------------------------------------------------

  private Node node(JsonNode schema, String path, String typeName, boolean underRule) {
    JsonNode validations = schema.path("x-kubernetes-validations");
    boolean hasRules = validations.isArray() && !validations.isEmpty();
    boolean bounded = underRule || hasRules;
    if (bounded) {
      checkBounded(schema, path);
    }
    Map<String, Node> properties = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> p : schema.path("properties").properties()) {
      properties.put(
          p.getKey(),
          node(p.getValue(), path + "." + p.getKey(), typeName + "." + p.getKey(), bounded));
    }
    Node items =
        schema.get("items") instanceof ObjectNode i
            ? node(i, path + "[*]", typeName + "@idx", bounded)
            : null;
    Node additional =
        schema.get("additionalProperties") instanceof ObjectNode a
            ? node(a, path + "[*]", typeName + "@key", bounded)
            : null;
    List<Compiled> compiled = new ArrayList<>();
    if (hasRules) {
      CelType selfType = celType(schema, typeName);
      for (JsonNode v : validations) {
        compiled.add(
            compile(v, path.isEmpty() ? "." : path, schema.path("type").asText(), selfType));
      }
    }
    return new Node(compiled, schema, properties, items, additional);
  }

  private void checkBounded(JsonNode schema, String path) {
    String type = schema.path("type").asText();
    String where = path.isEmpty() ? "." : path;
    if (type.equals("array") && !schema.has("maxItems")) {
      unbounded.add(where + ": array without maxItems");
    } else if (type.equals("string") && !schema.has("maxLength") && !schema.has("enum")) {
      unbounded.add(where + ": string without maxLength");
    } else if (schema.get("additionalProperties") instanceof ObjectNode
        && !schema.has("maxProperties")) {
      unbounded.add(where + ": map without maxProperties");
    }
  }

  private Compiled compile(
      JsonNode validation, String schemaPath, String schemaType, CelType selfType) {
    String expression = validation.path("rule").asText();
    Rule rule =
        new Rule(
            schemaPath,
            schemaType,
            expression,
            validation.path("message").asText(""),
            validation.path("fieldPath").asText(""));
    String where = name + " " + schemaPath + " rule '" + expression + "'";
    if (validation.path("optionalOldSelf").asBoolean(false)) {
      throw new IllegalArgumentException(where + ": optionalOldSelf is not supported here");
    }
    Cel cel =
        CelFactory.standardCelBuilder()
            // has(), all(), exists(), exists_one(), map(), filter(): the API server's macros.
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .setTypeProvider(new StructTypes())
            .addVar("self", selfType)
            .addVar("oldSelf", selfType)
            .build();
    try {
      CelAbstractSyntaxTree ast = cel.compile(expression).getAst();
      if (!ast.getResultType().equals(SimpleType.BOOL)) {
        throw new IllegalArgumentException(
            where + " evaluates to " + ast.getResultType() + ", not bool");
      }
      boolean transition = expression.contains("oldSelf");
      Optional<CelRuntime.Program> message = Optional.empty();
      String messageExpression = validation.path("messageExpression").asText("");
      if (!messageExpression.isEmpty()) {
        CelAbstractSyntaxTree messageAst = cel.compile(messageExpression).getAst();
        if (!messageAst.getResultType().equals(SimpleType.STRING)) {
          throw new IllegalArgumentException(
              where + " messageExpression evaluates to " + messageAst.getResultType());
        }
        message = Optional.of(cel.createProgram(messageAst));
      }
      rules.add(rule);
      return new Compiled(rule, transition, cel.createProgram(ast), message);
    } catch (CelValidationException | CelEvaluationException e) {
      // The API server refuses to store a CRD whose rule does not compile.
      throw new IllegalArgumentException(where + " does not compile: " + e.getMessage(), e);
    }
  }

  /** The CEL type the API server gives a value of {@code schema}. */
  private CelType celType(JsonNode schema, String typeName) {
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      return SimpleType.DYN;
    }
    switch (schema.path("type").asText()) {
      case "string":
        return SimpleType.STRING;
      case "integer":
        return SimpleType.INT;
      case "number":
        return SimpleType.DOUBLE;
      case "boolean":
        return SimpleType.BOOL;
      case "array":
        return ListType.create(celType(schema.path("items"), typeName + "@idx"));
      case "object":
        if (schema.get("additionalProperties") instanceof ObjectNode additional) {
          return MapType.create(SimpleType.STRING, celType(additional, typeName + "@key"));
        }
        if (!schema.has("properties")) {
          return SimpleType.DYN;
        }
        Map<String, CelType> fields = new LinkedHashMap<>();
        if (typeName.equals(ROOT_TYPE)) {
          // The API server adds these to the root; of metadata, rules may only read the names.
          fields.put("apiVersion", SimpleType.STRING);
          fields.put("kind", SimpleType.STRING);
          Map<String, CelType> metadata =
              Map.of("name", SimpleType.STRING, "generateName", SimpleType.STRING);
          StructType metadataType =
              StructType.create(
                  ROOT_TYPE + ".metadata",
                  ImmutableSet.copyOf(metadata.keySet()),
                  field -> Optional.ofNullable(metadata.get(field)));
          structs.put(metadataType.name(), metadataType);
          fields.put("metadata", metadataType);
        }
        for (Map.Entry<String, JsonNode> p : schema.path("properties").properties()) {
          fields.put(p.getKey(), celType(p.getValue(), typeName + "." + p.getKey()));
        }
        StructType struct =
            StructType.create(
                typeName,
                ImmutableSet.copyOf(fields.keySet()),
                field -> Optional.ofNullable(fields.get(field)));
        structs.put(typeName, struct);
        return struct;
      default:
        return SimpleType.DYN;
    }
  }

  /** Lets the type checker find the struct types made from the schema's objects. */
  private final class StructTypes implements CelTypeProvider {
    @Override
    public ImmutableList<CelType> types() {
      return ImmutableList.copyOf(structs.values());
    }

    @Override
    public Optional<CelType> findType(String typeName) {
      return Optional.ofNullable(structs.get(typeName));
    }
  }

  // --- evaluating --------------------------------------------------------------------------

  private void walk(Node node, JsonNode value, JsonNode old, String path, List<Violation> out) {
    if (value == null || value.isMissingNode()) {
      return;
    }
    boolean hasOld = old != null && !old.isMissingNode();
    for (Compiled c : node.rules()) {
      if (c.transition() && !hasOld) {
        continue;
      }
      evaluate(c, value, hasOld ? old : null, path, out);
    }
    if (value instanceof ObjectNode object) {
      for (Map.Entry<String, JsonNode> field : object.properties()) {
        Node child = node.properties().get(field.getKey());
        if (child == null) {
          child = node.additional();
        }
        if (child != null) {
          JsonNode oldChild = hasOld ? old.get(field.getKey()) : null;
          String childPath =
              node.properties().containsKey(field.getKey())
                  ? path + "." + field.getKey()
                  : path + "[" + field.getKey() + "]";
          walk(child, field.getValue(), oldChild, childPath, out);
        }
      }
    } else if (value instanceof ArrayNode array && node.items() != null) {
      for (int i = 0; i < array.size(); i++) {
        walk(node.items(), array.get(i), null, path + "[" + i + "]", out);
      }
    }
  }

  private void evaluate(
      Compiled c, JsonNode value, JsonNode old, String path, List<Violation> out) {
    Map<String, Object> variables = new HashMap<>();
    variables.put("self", CelValues.of(value));
    if (old != null) {
      variables.put("oldSelf", CelValues.of(old));
    }
    String at = displayPath(path + c.rule().fieldPath());
    Object result;
    try {
      result = c.program().eval(variables);
    } catch (CelEvaluationException e) {
      out.add(new Violation(at, c.rule(), "error evaluating rule: " + e.getMessage()));
      return;
    }
    if (Boolean.TRUE.equals(result)) {
      return;
    }
    out.add(new Violation(at, c.rule(), message(c, variables)));
  }

  private static String message(Compiled c, Map<String, Object> variables) {
    if (c.messageProgram().isPresent()) {
      try {
        if (c.messageProgram().get().eval(variables) instanceof String s && !s.isBlank()) {
          return s;
        }
      } catch (CelEvaluationException e) {
        // As the API server: a messageExpression that fails falls back to the message.
      }
    }
    if (!c.rule().message().isEmpty()) {
      return c.rule().message();
    }
    return "failed rule: " + c.rule().rule();
  }

  private static String displayPath(String path) {
    return path.startsWith(".") ? path.substring(1) : path.isEmpty() ? "<root>" : path;
  }

  /** A copy without the nulls the schema does not allow, as the API server prunes them. */
  private static JsonNode prune(JsonNode value, Node node) {
    JsonNode copy = value.deepCopy();
    pruneNulls(copy, node);
    return copy;
  }

  private static void pruneNulls(JsonNode value, Node node) {
    if (node == null) {
      return;
    }
    if (value instanceof ObjectNode object) {
      List<String> drop = new ArrayList<>();
      for (Map.Entry<String, JsonNode> field : object.properties()) {
        Node child = node.properties().getOrDefault(field.getKey(), node.additional());
        boolean nullable = child != null && child.schema().path("nullable").asBoolean(false);
        if (field.getValue().isNull() && !nullable) {
          drop.add(field.getKey());
        } else {
          pruneNulls(field.getValue(), child);
        }
      }
      object.remove(drop);
    } else if (value instanceof ArrayNode array) {
      array.forEach(item -> pruneNulls(item, node.items()));
    }
  }
}

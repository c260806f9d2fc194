package io.conveyor.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The {@code openAPIV3Schema} of one version of a CRD as a JSON-schema validator (networknt, draft
 * 4: OpenAPI 3.0 schemas are its dialect, e.g. a boolean {@code exclusiveMinimum}), with the
 * structural-schema rules of the API server mapped onto it:
 *
 * <ul>
 *   <li>unknown fields are errors: every object schema with {@code properties} and without {@code
 *       x-kubernetes-preserve-unknown-fields: true} gets {@code additionalProperties: false}. The
 *       API server prunes them silently by default, but {@code kubectl apply} asks for strict field
 *       validation (its default {@code --validate=strict}) and is refused;
 *   <li>{@code nullable: true} becomes the type {@code [T, "null"]}; a null where the schema is not
 *       nullable is pruned from the object before validation, as the API server does;
 *   <li>{@code x-kubernetes-int-or-string} becomes "integer or string"; the other {@code
 *       x-kubernetes-*} keywords (list types, embedded resources, CEL rules) are removed: CEL rules
 *       are checked separately, with a CEL engine;
 *   <li>{@code apiVersion}, {@code kind} and {@code metadata}, which the API server checks itself,
 *       are allowed at the root, with the API server's own checks of metadata: {@code name}
 *       required, a DNS-1123 subdomain, and {@code namespace}, if present, a DNS-1123 label.
 * </ul>
 */
public final class CrdSchema {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final String name;
  private final JsonNode openApiSchema;
  private final Schema schema;

  private CrdSchema(String name, JsonNode openApiSchema) {
    this.name = name;
    this.openApiSchema = openApiSchema;
    ObjectNode jsonSchema = toJsonSchema(openApiSchema.deepCopy());
    ObjectNode root = (ObjectNode) jsonSchema.path("properties");
    if (!root.isMissingNode()) {
      root.putObject("apiVersion").put("type", "string");
      root.putObject("kind").put("type", "string");
      ObjectNode metadata = root.putObject("metadata").put("type", "object");
      // What the API server checks of a custom resource's metadata before the schema: a name (a
      // DNS-1123 subdomain) and, if given, a namespace (a DNS-1123 label).
      metadata.putArray("required").add("name");
      ObjectNode names = metadata.putObject("properties");
      names
          .putObject("name")
          .put("type", "string")
          .put("maxLength", 253)
          .put("pattern", "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
      names
          .putObject("namespace")
          .put("type", "string")
          .put("maxLength", 63)
          .put("pattern", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    }
    this.schema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(jsonSchema);
  }

  /** The schema of {@code version} in the CRD file {@code crd}. */
  public static CrdSchema load(Path crd, String version) {
    JsonNode definition;
    try {
      definition = YAML.readTree(Files.readString(crd));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (JsonNode v : definition.path("spec").path("versions")) {
      if (version.equals(v.path("name").asText())) {
        JsonNode schema = v.path("schema").path("openAPIV3Schema");
        if (!schema.isObject()) {
          throw new IllegalArgumentException(
              crd + " version " + version + " has no openAPIV3Schema");
        }
        return new CrdSchema(
            definition.path("metadata").path("name").asText() + "/" + version, schema);
      }
    }
    throw new IllegalArgumentException(crd + " has no version " + version);
  }

  /** The OpenAPI schema as the CRD has it (for CEL rules and such). */
  public JsonNode openApiSchema() {
    return openApiSchema;
  }

  /** One line per problem, {@code $.path: message}; empty when the API server would accept it. */
  public List<String> validate(JsonNode object) {
    JsonNode pruned = pruneNulls(object.deepCopy(), openApiSchema);
    List<String> problems = new ArrayList<>();
    for (Error error : schema.validate(pruned)) {
      problems.add(error.toString());
    }
    return problems;
  }

  /** {@link #validate} of each YAML document of {@code text}. */
  public List<String> validateYaml(String text) {
    try {
      return validate(YAML.readTree(text));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return name;
  }

  private static ObjectNode toJsonSchema(ObjectNode schema) {
    boolean nullable = schema.path("nullable").asBoolean(false);
    boolean intOrString = schema.path("x-kubernetes-int-or-string").asBoolean(false);
    boolean preserveUnknown = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    schema.remove("nullable");
    Iterator<String> fields = schema.fieldNames();
    List<String> extensions = new ArrayList<>();
    fields.forEachRemaining(
        f -> {
          if (f.startsWith("x-kubernetes-")) {
            extensions.add(f);
          }
        });
    schema.remove(extensions);
    if (intOrString) {
      schema.remove("type");
      ArrayNode types = schema.putArray("type").add("integer").add("string");
      if (nullable) {
        types.add("null");
      }
    } else if (nullable && schema.has("type")) {
      String type = schema.get("type").asText();
      schema.putArray("type").add(type).add("null");
    }
    if (schema.has("properties")) {
      for (Map.Entry<String, JsonNode> p : schema.get("properties").properties()) {
        toJsonSchema((ObjectNode) p.getValue());
      }
      if (!preserveUnknown && !schema.has("additionalProperties")) {
        schema.put("additionalProperties", false);
      }
    }
    if (schema.get("items") instanceof ObjectNode items) {
      toJsonSchema(items);
    }
    if (schema.get("additionalProperties") instanceof ObjectNode additional) {
      toJsonSchema(additional);
    }
    return schema;
  }

  /** Removes nulls the schema does not allow, as the API server does before validating. */
  private static JsonNode pruneNulls(JsonNode value, JsonNode schema) {
    if (value instanceof ObjectNode object) {
      List<String> drop = new ArrayList<>();
      for (Map.Entry<String, JsonNode> field : object.properties()) {
        JsonNode fieldSchema = schema.path("properties").path(field.getKey());
        if (fieldSchema.isMissingNode()) {
          fieldSchema = schema.path("additionalProperties");
        }
        if (field.getValue().isNull() && !fieldSchema.path("nullable").asBoolean(false)) {
          drop.add(field.getKey());
        } else {
          pruneNulls(field.getValue(), fieldSchema);
        }
      }
      object.remove(drop);
    } else if (value instanceof ArrayNode array) {
      array.forEach(item -> pruneNulls(item, schema.path("items")));
    }
    return value;
  }
}

package io.conveyor.router.pipeline;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads {@code Pipeline} objects from the YAML files of a folder (standalone mode). A file may hold
 * several documents. A bad file or document is reported with its file name and the problem, and
 * never prevents the others from loading.
 */
public final class PipelineYamlLoader {

  public static final String API_VERSION = "conveyor.etl/v1";
  public static final String KIND = "Pipeline";

  /** Bigger files are refused: a pipeline definition is a few hundred bytes. */
  private static final long MAX_FILE_BYTES = 1 << 20;

  private final ObjectMapper mapper;
  private final ObjectReader specReader;

  public PipelineYamlLoader() {
    // Duplicate keys and fractional integers are refused, as the API server refuses them, so
    // that a file behaves the same in standalone mode and applied to a cluster.
    this.mapper =
        new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    // Nor are scalars of the wrong type coerced (source: 123, maxBatchSize: "10"): the CRD's
    // schema types are strict, and the same file must not load here and be refused by a cluster.
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    this.specReader =
        mapper
            .readerFor(PipelineSpec.class)
            .with(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .without(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
  }

  /** What loading a folder gave: valid pipelines and one problem line per bad file or document. */
  public record Result(List<PipelineDefinition> pipelines, List<String> problems) {
    public Result {
      pipelines = List.copyOf(pipelines);
      problems = List.copyOf(problems);
    }
  }

  /** Loads every {@code *.yaml} / {@code *.yml} file directly in {@code folder}, by name order. */
  public Result loadFolder(Path folder) {
    List<Path> files;
    try (Stream<Path> entries = Files.list(folder)) {
      files =
          entries
              .filter(Files::isRegularFile)
              .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    } catch (IOException e) {
      return new Result(List.of(), List.of(folder + ": cannot list folder: " + e.getMessage()));
    }
    Map<String, PipelineDefinition> byKey = new LinkedHashMap<>();
    Map<String, Path> origin = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Path file : files) {
      Result fileResult = loadFile(file);
      problems.addAll(fileResult.problems());
      for (PipelineDefinition pipeline : fileResult.pipelines()) {
        Path first = origin.putIfAbsent(pipeline.key(), file);
        if (first != null) {
          problems.add(
              file.getFileName()
                  + ": pipeline "
                  + pipeline.key()
                  + " is already defined in "
                  + first.getFileName()
                  + "; ignored");
        } else {
          byKey.put(pipeline.key(), pipeline);
        }
      }
    }
    return new Result(new ArrayList<>(byKey.values()), problems);
  }

  /** Loads the documents of one file. */
  public Result loadFile(Path file) {
    String name = file.getFileName().toString();
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        return new Result(List.of(), List.of(name + ": larger than " + MAX_FILE_BYTES + " bytes"));
      }
      return loadDocuments(name, Files.readString(file));
    } catch (IOException e) {
      return new Result(List.of(), List.of(name + ": cannot read: " + e.getMessage()));
    }
  }

  /** Loads the YAML documents of {@code text}; {@code origin} names it in problems. */
  public Result loadDocuments(String origin, String text) {
    List<PipelineDefinition> pipelines = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int document = 0;
    try (MappingIterator<JsonNode> docs = mapper.readerFor(JsonNode.class).readValues(text)) {
      while (docs.hasNextValue()) {
        document++;
        JsonNode node = docs.nextValue();
        if (node == null || node.isNull() || node.isMissingNode()) {
          continue; // an empty document, e.g. after a trailing '---'
        }
        String where = origin + (document > 1 ? " (document " + document + ")" : "");
        readPipeline(where, node, pipelines, problems);
      }
    } catch (IOException | RuntimeException e) {
      problems.add(origin + ": not valid YAML: " + firstLine(e));
    }
    return new Result(pipelines, problems);
  }

  private void readPipeline(
      String where, JsonNode node, List<PipelineDefinition> pipelines, List<String> problems) {
    if (!node.isObject()) {
      problems.add(where + ": expected a Pipeline object, found " + node.getNodeType());
      return;
    }
    String apiVersion = node.path("apiVersion").asText("");
    String kind = node.path("kind").asText("");
    if (!API_VERSION.equals(apiVersion) || !KIND.equals(kind)) {
      problems.add(
          where
              + ": expected apiVersion "
              + API_VERSION
              + " and kind "
              + KIND
              + ", found apiVersion '"
              + apiVersion
              + "' and kind '"
              + kind
              + "'");
      return;
    }
    JsonNode metadata = node.path("metadata");
    String name = metadata.path("name").asText(null);
    String namespace = metadata.path("namespace").asText("");
    if (namespace.isBlank()) {
      namespace = "default"; // as kubectl does; sidecars without a namespace are in "default" too
    }
    long generation = metadata.path("generation").asLong(1);
    PipelineSpec spec;
    try {
      spec = node.hasNonNull("spec") ? specReader.readValue(node.get("spec")) : null;
    } catch (JsonMappingException e) {
      // Read from the tree, so there is no line to report: name the field instead.
      problems.add(where + ": " + fieldPath("spec", e) + ": " + firstLine(e));
      return;
    } catch (JsonProcessingException e) {
      problems.add(where + ": spec: " + firstLine(e));
      return;
    } catch (IOException e) {
      problems.add(where + ": spec: " + e.getMessage());
      return;
    }
    PipelineValidation validation = PipelineValidator.validate(namespace, name, generation, spec);
    if (validation instanceof PipelineValidation.Valid valid) {
      pipelines.add(valid.definition());
    } else if (validation instanceof PipelineValidation.Invalid invalid) {
      problems.add(where + ": pipeline '" + name + "' is invalid: " + invalid.message());
    }
  }

  private static String fieldPath(String root, JsonMappingException e) {
    StringBuilder path = new StringBuilder(root);
    for (JsonMappingException.Reference reference : e.getPath()) {
      if (reference.getFieldName() != null) {
        path.append('.').append(reference.getFieldName());
      } else if (reference.getIndex() >= 0) {
        path.append('[').append(reference.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  private static String firstLine(Exception e) {
    String message = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : null;
    if (message == null) {
      message = String.valueOf(e.getMessage());
    }
    String location = "";
    if (e instanceof JsonProcessingException jpe
        && jpe.getLocation() != null
        && jpe.getLocation().getLineNr() > 0) {
      location = " (line " + jpe.getLocation().getLineNr() + ")";
    }
    int newline = message.indexOf('\n');
    return (newline < 0 ? message : message.substring(0, newline)) + location;
  }
}

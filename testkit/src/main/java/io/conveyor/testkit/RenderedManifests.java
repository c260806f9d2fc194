package io.conveyor.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What {@code kubectl kustomize deploy/} prints, run from the repository root and parsed: the
 * objects a user applies, after kustomize's namespace, labels and image rewrites. Nothing is copied
 * by hand, so a test on these reads what the cluster would get. The webhook's admission table and
 * the pods tier's webhook pod read them.
 */
public final class RenderedManifests {

  public static final Path KUBECTL = Path.of("/usr/bin/kubectl");
  private static final long TIMEOUT_SECONDS = 60;

  private RenderedManifests() {}

  public static Path repositoryRoot() {
    Path root = Path.of("").toAbsolutePath();
    while (root != null && !Files.isDirectory(root.resolve("deploy"))) {
      root = root.getParent();
    }
    if (root == null) {
      throw new IllegalStateException("no deploy/ folder above " + Path.of("").toAbsolutePath());
    }
    return root;
  }

  /** Every document of the rendered {@code deploy/}, in order. */
  public static List<JsonNode> render() {
    if (!Files.isExecutable(KUBECTL)) {
      throw new IllegalStateException(
          KUBECTL
              + " is missing: these tests read the manifests as `kubectl kustomize deploy/`"
              + " renders them (install kubectl, e.g. the Debian package kubernetes-client)");
    }
    Path root = repositoryRoot();
    try {
      Path output = Files.createTempFile("conveyor-kustomize", ".yaml");
      Path errors = Files.createTempFile("conveyor-kustomize", ".err");
      try {
        Process process =
            new ProcessBuilder(KUBECTL.toString(), "kustomize", "deploy/")
                .directory(root.toFile())
                .redirectOutput(output.toFile())
                .redirectError(errors.toFile())
                .start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException(
              "kubectl kustomize deploy/ did not finish in " + TIMEOUT_SECONDS + " s");
        }
        if (process.exitValue() != 0) {
          throw new IllegalStateException(
              "kubectl kustomize deploy/ failed ("
                  + process.exitValue()
                  + "): "
                  + Files.readString(errors, StandardCharsets.UTF_8));
        }
        return parse(Files.readString(output, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(output);
        Files.deleteIfExists(errors);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running kubectl kustomize", e);
    }
  }

  public static List<JsonNode> parse(String yaml) throws IOException {
    List<JsonNode> documents = new ArrayList<>();
    try (MappingIterator<JsonNode> it =
        new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).readValues(yaml)) {
      while (it.hasNextValue()) {
        JsonNode document = it.nextValue();
        if (document != null && document.isObject()) {
          documents.add(document);
        }
      }
    }
    return documents;
  }

  /** The one object of {@code kind} named {@code name}; fails naming what was there instead. */
  public static JsonNode one(List<JsonNode> documents, String kind, String name) {
    List<JsonNode> found =
        documents.stream()
            .filter(d -> kind.equals(d.path("kind").asText()))
            .filter(d -> name.equals(d.path("metadata").path("name").asText()))
            .toList();
    if (found.size() != 1) {
      throw new IllegalStateException(
          "expected one " + kind + " " + name + " in the rendered deploy/, found " + found.size());
    }
    return found.get(0);
  }
}

package io.conveyor.router.standalone;

import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.PipelineYamlLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the router's pipelines equal to the YAML files of a folder. Polls the folder's listing
 * (names, sizes, modification times) and reloads when it changed; a polling loop works the same on
 * every file system, including the ConfigMap volumes whose symlink swaps file watchers miss.
 */
public final class PipelineFolderWatcher {

  private static final Logger log = LoggerFactory.getLogger(PipelineFolderWatcher.class);

  private final Path folder;
  private final RouterCore core;
  private final PipelineYamlLoader loader = new PipelineYamlLoader();
  private Map<String, String> lastListing;
  private List<String> lastProblems = List.of();

  public PipelineFolderWatcher(Path folder, RouterCore core) {
    this.folder = folder;
    this.core = core;
  }

  /** Reloads when the folder changed since the last call; returns true when it reloaded. */
  public synchronized boolean poll() {
    Map<String, String> listing = listing();
    if (listing.equals(lastListing)) {
      return false;
    }
    lastListing = listing;
    PipelineYamlLoader.Result result = loader.loadFolder(folder);
    core.replacePipelines(result.pipelines());
    log.info(
        "loaded {} pipeline(s) from {}: {}",
        result.pipelines().size(),
        folder,
        result.pipelines().stream().map(PipelineDefinition::key).toList());
    if (!result.problems().equals(lastProblems)) {
      result.problems().forEach(problem -> log.error("pipeline file problem: {}", problem));
    }
    lastProblems = result.problems();
    return true;
  }

  /** Problems of the last load, one line each, naming the file. */
  public synchronized List<String> problems() {
    return lastProblems;
  }

  private Map<String, String> listing() {
    Map<String, String> listing = new TreeMap<>();
    if (!Files.isDirectory(folder)) {
      listing.put("<missing>", folder.toString());
      return listing;
    }
    try (Stream<Path> files = Files.list(folder)) {
      files.forEach(
          file -> {
            try {
              listing.put(
                  file.getFileName().toString(),
                  Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis());
            } catch (IOException e) {
              listing.put(file.getFileName().toString(), "unreadable");
            }
          });
    } catch (IOException e) {
      listing.put("<unlistable>", e.getMessage());
    }
    return listing;
  }
}

package io.conveyor.operator.router;

import io.conveyor.operator.crd.Pipeline;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineValidation;
import io.conveyor.router.pipeline.PipelineValidator;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a new leader's pipelines from the API before its router serves, so that sidecars
 * re-registering with it get their full assignments at once instead of an empty set followed by the
 * real one. The Pipeline reconciler takes over from there.
 */
public final class PipelineBootstrap {

  private static final Logger log = LoggerFactory.getLogger(PipelineBootstrap.class);

  private PipelineBootstrap() {}

  /** Lists the Pipelines of {@code namespaces} (all when empty) and loads the valid ones. */
  public static int load(KubernetesClient client, RouterCore core, Set<String> namespaces) {
    List<Pipeline> pipelines = new ArrayList<>();
    if (namespaces.isEmpty()) {
      pipelines.addAll(client.resources(Pipeline.class).inAnyNamespace().list().getItems());
    } else {
      for (String namespace : namespaces) {
        pipelines.addAll(client.resources(Pipeline.class).inNamespace(namespace).list().getItems());
      }
    }
    int loaded = 0;
    for (Pipeline pipeline : pipelines) {
      Long generation = pipeline.getMetadata().getGeneration();
      PipelineValidation validation =
          PipelineValidator.validate(
              pipeline.getMetadata().getNamespace(),
              pipeline.getMetadata().getName(),
              generation == null ? 1 : generation,
              pipeline.getSpec());
      if (validation instanceof PipelineValidation.Valid valid) {
        try {
          core.upsertPipeline(valid.definition());
          loaded++;
        } catch (IllegalStateException e) {
          log.warn("pipeline {} not loaded: {}", pipeline.routerKey(), e.getMessage());
        }
      }
    }
    log.info("loaded {} of {} pipelines from the API", loaded, pipelines.size());
    return loaded;
  }
}

package io.conveyor.operator.crd;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.PipelineSpec;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A pipeline: source, ordered steps, sink and delivery options. The spec is the router's {@link
 * PipelineSpec}, so the CRD schema and the standalone router's YAML files are the same thing.
 */
@Group(ConveyorLabels.GROUP)
@Version("v1")
@Kind("Pipeline")
@Plural("pipelines")
@Singular("pipeline")
@ShortNames("pl")
@Categories("conveyor")
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.source")
@AdditionalPrinterColumn(name = "Sink", jsonPath = ".spec.sink")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".status.replicaSummary")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Steps", jsonPath = ".spec.steps", priority = 1)
@AdditionalPrinterColumn(
    name = "Observed",
    jsonPath = ".status.observedGeneration",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
public class Pipeline extends CustomResource<PipelineSpec, PipelineStatus> implements Namespaced {

  private static final long serialVersionUID = 1L;

  @Override
  @Required
  @JsonPropertyDescription("What the pipeline connects: source, steps and sink, by logical name.")
  public PipelineSpec getSpec() {
    return super.getSpec();
  }

  /** {@code namespace/name}, the key the router stores the pipeline under. */
  @JsonIgnore
  public String routerKey() {
    return PipelineDefinition.key(getMetadata().getNamespace(), getMetadata().getName());
  }
}

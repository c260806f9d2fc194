package io.conveyor.router.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Checks a Pipeline spec before the router plans with it: names present and well-formed, no stage
 * repeated, at most {@link PipelineSpec#MAX_STEPS} steps, delivery options known and within bounds.
 * A cluster makes the same checks from the CRD (its schema, and CEL rules for the checks across
 * fields, generated from the annotations of {@link PipelineSpec}); YAML files in standalone mode
 * have only this one, and PipelineSchemaAgreementTest holds the two to the same verdicts.
 */
public final class PipelineValidator {

  private static final Pattern NAME = Pattern.compile(PipelineSpec.NAME_PATTERN);

  /** metadata.name of a Kubernetes object: a DNS-1123 subdomain. */
  private static final Pattern OBJECT_NAME =
      Pattern.compile("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$");

  /** metadata.namespace: a DNS-1123 label, as the API server requires of a namespace's name. */
  private static final Pattern NAMESPACE = Pattern.compile("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");

  private PipelineValidator() {}

  public static PipelineValidation validate(
      String namespace, String name, long generation, PipelineSpec spec) {
    List<String> problems = new ArrayList<>();
    if (name == null || !OBJECT_NAME.matcher(name).matches()) {
      problems.add("metadata.name: '" + name + "' is not a DNS-1123 subdomain");
    }
    if (namespace == null || !NAMESPACE.matcher(namespace).matches()) {
      // A cluster has no such namespace: the same file must not load here and fail there.
      problems.add("metadata.namespace: '" + namespace + "' is not a DNS-1123 label");
    }
    if (spec == null) {
      problems.add("spec: required (source, steps, sink)");
      return new PipelineValidation.Invalid(problems);
    }
    spec.unknownFields()
        .keySet()
        .forEach(
            field ->
                problems.add(
                    "spec." + field + ": unknown field (known: source, steps, sink, delivery)"));

    Map<String, String> seen = new HashMap<>();
    checkStage("spec.source", spec.getSource(), seen, problems);
    List<String> steps = spec.getSteps() == null ? List.of() : spec.getSteps();
    if (steps.size() > PipelineSpec.MAX_STEPS) {
      // The CRD's maxItems: the same bound, so a file and a cluster refuse the same pipelines.
      problems.add(
          "spec.steps: "
              + steps.size()
              + " steps, at most "
              + PipelineSpec.MAX_STEPS
              + " are allowed");
    }
    for (int i = 0; i < steps.size(); i++) {
      checkStage("spec.steps[" + i + "]", steps.get(i), seen, problems);
    }
    checkStage("spec.sink", spec.getSink(), seen, problems);

    DeliverySpec delivery = spec.getDelivery();
    if (delivery != null) {
      TreeSet<String> known = new TreeSet<>(DeliverySpec.KNOWN_OPTIONS);
      delivery
          .unknownFields()
          .keySet()
          .forEach(
              option ->
                  problems.add(
                      "spec.delivery."
                          + option
                          + ": unknown option (known: "
                          + String.join(", ", known)
                          + ")"));
      checkRange("spec.delivery.maxBatchSize", delivery.getMaxBatchSize(), 1, 10_000, problems);
      checkRange("spec.delivery.maxRetries", delivery.getMaxRetries(), 0, 100, problems);
      checkRange(
          "spec.delivery.retryBackoffMillis",
          delivery.getRetryBackoffMillis(),
          1,
          60_000,
          problems);
      checkRange(
          "spec.delivery.batchTimeoutSeconds", delivery.getBatchTimeoutSeconds(), 1, 600, problems);
      if (delivery.getDeadLetterSink() != null) {
        checkStage("spec.delivery.deadLetterSink", delivery.getDeadLetterSink(), seen, problems);
      }
    }

    if (!problems.isEmpty()) {
      return new PipelineValidation.Invalid(problems);
    }
    return new PipelineValidation.Valid(
        new PipelineDefinition(
            namespace,
            name,
            generation,
            spec.getSource(),
            steps,
            spec.getSink(),
            DeliveryOptions.resolve(delivery)));
  }

  private static void checkStage(
      String path, String stage, Map<String, String> seen, List<String> problems) {
    if (stage == null || stage.isBlank()) {
      problems.add(path + ": required, the logical name of a service");
      return;
    }
    if (!NAME.matcher(stage).matches()) {
      problems.add(
          path
              + ": '"
              + stage
              + "' is not a service name (lower-case DNS-1123 label, e.g. mask-pii)");
      return;
    }
    String first = seen.putIfAbsent(stage, path);
    if (first != null) {
      problems.add(
          path
              + ": '"
              + stage
              + "' repeats the stage at "
              + first
              + " (each stage may appear once)");
    }
  }

  private static void checkRange(
      String path, Number value, long min, long max, List<String> problems) {
    if (value != null && (value.longValue() < min || value.longValue() > max)) {
      problems.add(path + ": " + value + " is out of range " + min + "-" + max);
    }
  }
}

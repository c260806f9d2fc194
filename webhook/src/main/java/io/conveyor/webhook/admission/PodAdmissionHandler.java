package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import io.conveyor.webhook.mutation.AdmissionTarget;
import io.conveyor.webhook.mutation.MutationOutcome;
import io.conveyor.webhook.mutation.NamespaceInjection;
import io.conveyor.webhook.mutation.PodMutator;
import io.conveyor.webhook.mutation.SkipReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Translates an AdmissionRequest into a call of the pure {@link PodMutator} and its outcome into an
 * AdmissionResponse: a JSON Patch (an injection's additions, or a repair diffed from the original
 * and the repaired pod), a denial with the mutator's message, or an unchanged admission. It writes
 * nothing anywhere, so dry-run requests are answered exactly like real ones.
 */
public final class PodAdmissionHandler {

  private static final Logger log = LoggerFactory.getLogger(PodAdmissionHandler.class);
  static final String JSON_PATCH = "JSONPatch";

  static final String REPAIRED_WARNING =
      "conveyor sidecar already present from an earlier injection: its conveyor.etl token and"
          + " trust bundle were mounted and the pod's API token kept out of it; re-create the"
          + " pod template from a fresh injection to get the current sidecar";

  /** The response and the outcome, for metrics: injected, repaired, skipped, denied or ignored. */
  public record Result(AdmissionResponse response, String outcome) {}

  private final AdmissionReviewCodec codec;
  private final PodMutator mutator;
  private final AdmissionMetrics metrics;

  public PodAdmissionHandler(
      AdmissionReviewCodec codec, PodMutator mutator, AdmissionMetrics metrics) {
    this.codec = codec;
    this.mutator = mutator;
    this.metrics = metrics;
  }

  public Result handle(ParsedRequest request, NamespaceInjection namespaceInjection)
      throws BadAdmissionRequestException {
    if (!request.isPodCreation()) {
      // Only pod creation is configured; anything else is let through untouched.
      return new Result(allowed(request.uid()).build(), "ignored");
    }
    Pod pod = codec.pod(request);
    String namespace =
        !request.namespace().isEmpty()
            ? request.namespace()
            : pod.getMetadata() != null && pod.getMetadata().getNamespace() != null
                ? pod.getMetadata().getNamespace()
                : "default";
    // Scoped to this review: the thread (a worker, or the warm-up's) logs other things afterwards.
    try (MDC.MDCCloseable resource =
        MDC.putCloseable("resource", namespace + "/" + displayName(pod, request))) {
      MutationOutcome outcome =
          mutator.mutate(pod, new AdmissionTarget(namespace, namespaceInjection));
      if (outcome instanceof MutationOutcome.Injected injected) {
        metrics.injected(injected.spec().mode().value());
        log.debug("injecting the sidecar ({} mode)", injected.spec().mode().value());
        JsonNode patch =
            InjectionPatch.of(request.object().orElseThrow(), injected.additions(), codec::toTree);
        return new Result(withPatch(allowed(request.uid()), patch).build(), "injected");
      }
      if (outcome instanceof MutationOutcome.Repaired repaired) {
        metrics.repaired();
        log.debug("already injected; completing the sidecar's credentials: {}", repaired.repairs());
        return new Result(
            patched(request.uid(), pod, repaired.pod())
                .withWarnings(List.of(REPAIRED_WARNING))
                .build(),
            "repaired");
      }
      if (outcome instanceof MutationOutcome.Skipped skipped) {
        metrics.skipped(skipped.reason().tag());
        log.debug("not injecting: {}", skipped.reason().tag());
        AdmissionResponseBuilder response = allowed(request.uid());
        if (skipped.requested() && warns(skipped.reason())) {
          response.withWarnings(
              List.of("conveyor sidecar not injected: " + skipped.reason().explanation()));
        }
        return new Result(response.build(), "skipped");
      }
      MutationOutcome.Denied denied = (MutationOutcome.Denied) outcome;
      metrics.denied();
      log.info("denied: {}", denied.message());
      return new Result(
          new AdmissionResponseBuilder()
              .withUid(request.uid())
              .withAllowed(false)
              .withStatus(
                  new StatusBuilder()
                      .withCode(400)
                      .withReason("BadRequest")
                      .withMessage(denied.message())
                      .build())
              .build(),
          "denied");
    }
  }

  /** The pod's name, or its generateName with a {@code *} when the name is not chosen yet. */
  private static String displayName(Pod pod, ParsedRequest request) {
    if (!request.name().isEmpty()) {
      return request.name();
    }
    if (pod.getMetadata() != null && pod.getMetadata().getName() != null) {
      return pod.getMetadata().getName();
    }
    if (pod.getMetadata() != null && pod.getMetadata().getGenerateName() != null) {
      return pod.getMetadata().getGenerateName() + "*";
    }
    return "?";
  }

  private static boolean warns(SkipReason reason) {
    return reason == SkipReason.HOST_NETWORK || reason == SkipReason.EXCLUDED_NAMESPACE;
  }

  /** Allowed, with the JSON Patch that turns {@code original} into {@code mutated}. */
  private AdmissionResponseBuilder patched(String uid, Pod original, Pod mutated) {
    return withPatch(allowed(uid), JsonPatches.diff(codec.toTree(original), codec.toTree(mutated)));
  }

  private static AdmissionResponseBuilder withPatch(
      AdmissionResponseBuilder response, JsonNode patch) {
    return response
        .withPatchType(JSON_PATCH)
        .withPatch(
            Base64.getEncoder().encodeToString(patch.toString().getBytes(StandardCharsets.UTF_8)));
  }

  private static AdmissionResponseBuilder allowed(String uid) {
    return new AdmissionResponseBuilder().withUid(uid).withAllowed(true);
  }
}

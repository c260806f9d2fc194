package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Optional;

/**
 * The parts of an {@code admission.k8s.io/v1} AdmissionRequest the webhook uses, validated.
 *
 * @param uid echoed in the response
 * @param group the group of {@code request.kind}
 * @param version the version of {@code request.kind}
 * @param kind {@code request.kind.kind}
 * @param subResource {@code request.subResource}, empty when absent
 * @param operation CREATE, UPDATE, DELETE or CONNECT
 * @param namespace {@code request.namespace}, empty for cluster-scoped objects
 * @param name {@code request.name}, often empty on CREATE
 * @param dryRun whether the request is a dry run
 * @param object {@code request.object}, absent for DELETE
 */
public record ParsedRequest(
    String uid,
    String group,
    String version,
    String kind,
    String subResource,
    String operation,
    String namespace,
    String name,
    boolean dryRun,
    Optional<JsonNode> object) {

  public ParsedRequest {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(object, "object");
  }

  public boolean isPodCreation() {
    return group.isEmpty()
        && version.equals("v1")
        && kind.equals("Pod")
        && subResource.isEmpty()
        && operation.equals("CREATE");
  }
}

package io.conveyor.webhook.mutation;

import java.util.Objects;

/**
 * Where a pod is being admitted.
 *
 * @param namespace the namespace of the request (a pod being created may not carry it yet)
 * @param namespaceOptedIn whether the namespace is labelled {@code conveyor.etl/injection=enabled};
 *     the API server knows it (namespaceSelector) and calls a distinct path, so the webhook never
 *     reads namespaces itself
 */
public record AdmissionTarget(String namespace, boolean namespaceOptedIn) {
  public AdmissionTarget {
    Objects.requireNonNull(namespace, "namespace");
  }
}

package io.conveyor.webhook.mutation;

import java.util.Objects;

/**
 * Where a pod is being admitted.
 *
 * @param namespace the namespace of the request (a pod being created may not carry it yet)
 * @param namespaceInjection the namespace's {@code conveyor.etl/injection} label, as told by the
 *     path the API server called
 */
public record AdmissionTarget(String namespace, NamespaceInjection namespaceInjection) {
  public AdmissionTarget {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(namespaceInjection, "namespaceInjection");
  }

  /** A namespace that opted in ({@code enabled}) or made no choice. */
  public AdmissionTarget(String namespace, boolean namespaceOptedIn) {
    this(namespace, namespaceOptedIn ? NamespaceInjection.ENABLED : NamespaceInjection.UNSET);
  }

  public boolean namespaceOptedIn() {
    return namespaceInjection == NamespaceInjection.ENABLED;
  }
}

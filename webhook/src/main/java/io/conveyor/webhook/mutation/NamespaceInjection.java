package io.conveyor.webhook.mutation;

/**
 * The namespace's choice, from its label {@code conveyor.etl/injection}. The API server knows it
 * (each webhook entry has its own namespaceSelector) and calls a distinct path per choice, so the
 * webhook never reads namespaces itself.
 */
public enum NamespaceInjection {
  /** No label (or another value): only pods annotated {@code conveyor.etl/inject: "true"}. */
  UNSET,
  /** {@code enabled}: every pod not annotated {@code "false"}. */
  ENABLED,
  /** {@code disabled}: no sidecar here; a pod that asks for one is denied. */
  DISABLED
}

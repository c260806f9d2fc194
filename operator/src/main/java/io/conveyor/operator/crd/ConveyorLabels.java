package io.conveyor.operator.crd;

/**
 * Names shared with the rest of Conveyor (the webhook adds them, the operator selects on them) and
 * with the manifests in {@code deploy/}.
 */
public final class ConveyorLabels {

  /** API group of Conveyor's custom resources. */
  public static final String GROUP = "conveyor.etl";

  /** Label the webhook puts on every pod it injected a sidecar into. */
  public static final String INJECTED = "conveyor.etl/injected";

  /** Label selector of the pods the operator keeps a ConveyorSidecar for. */
  public static final String INJECTED_SELECTOR = INJECTED + "=true";

  /** Name of the sidecar container the webhook adds (a native sidecar or a regular container). */
  public static final String SIDECAR_CONTAINER = "conveyor-sidecar";

  /** {@code app.kubernetes.io/managed-by} value on the objects the operator creates. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "conveyor-operator";

  /** Label selector of the ConveyorSidecar objects this operator manages. */
  public static final String MANAGED_SELECTOR = MANAGED_BY_LABEL + "=" + MANAGED_BY;

  private ConveyorLabels() {}
}

package io.conveyor.webhook.mutation;

/** Why a pod that reached the webhook was left unchanged. */
public enum SkipReason {
  EXCLUDED_NAMESPACE(
      "excluded-namespace", "system namespaces and the injector's own never get the sidecar"),
  NOT_OPTED_IN("not-opted-in", "the pod is not annotated " + InjectionKeys.INJECT + "=true"),
  OPTED_OUT("opted-out", "the pod is annotated " + InjectionKeys.INJECT + "=false"),
  ALREADY_INJECTED(
      "already-injected",
      "the pod already has a container named " + InjectionKeys.SIDECAR_CONTAINER),
  HOST_NETWORK(
      "host-network",
      "hostNetwork pods are not supported: the sidecar's ports would open on the node");

  private final String tag;
  private final String explanation;

  SkipReason(String tag, String explanation) {
    this.tag = tag;
    this.explanation = explanation;
  }

  /** A short, stable value for metrics and logs. */
  public String tag() {
    return tag;
  }

  /** A short sentence for the user (an admission warning when they asked for injection). */
  public String explanation() {
    return explanation;
  }
}

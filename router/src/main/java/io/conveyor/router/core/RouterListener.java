package io.conveyor.router.core;

import io.conveyor.router.plan.RoutingPlan;

/**
 * Observes meaningful changes of the router's state, e.g. for the operator to update status.
 * Heartbeats that change nothing but the time and load do not notify. Callbacks run outside the
 * core's lock, possibly concurrently and out of order: read the current state, do not rely on
 * sequence.
 */
public interface RouterListener {

  /** A sidecar registered, changed state or services, deregistered or expired. */
  default void sidecarChanged(String sidecarId) {}

  /** Pipelines or the assignments computed from them changed. */
  default void planChanged(RoutingPlan plan) {}
}

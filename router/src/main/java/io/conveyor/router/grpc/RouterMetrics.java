package io.conveyor.router.grpc;

import io.conveyor.router.core.RouterCore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;

/**
 * Every meter the router exports, each with its description (the Prometheus HELP), registered up
 * front with every label value it can take, so that a counter that has not fired yet reads 0 rather
 * than being absent. Counters live as long as the registry and keep counting across the operator's
 * leadership terms; the gauges and the re-plan count follow one core and are removed with its
 * server.
 */
final class RouterMetrics {

  /** Label values of {@link #registrationsRefused(String)}. */
  static final String REFUSED_INVALID = "invalid";

  static final String REFUSED_REGISTRY_FULL = "registry_full";

  final Counter registrations;
  final Counter heartbeats;
  final Counter unknownSidecarCalls;
  final Counter deregistrations;
  final Counter expirations;
  final Counter droppedWatchCommands;
  final Pushes assignmentPushes;
  private final Counter refusedInvalid;
  private final Counter refusedRegistryFull;

  RouterMetrics(MeterRegistry meters) {
    registrations =
        counter(
            meters,
            "conveyor_router_registrations_total",
            "Sidecar registrations accepted, first ones and repeated ones");
    refusedInvalid = refused(meters, REFUSED_INVALID);
    refusedRegistryFull = refused(meters, REFUSED_REGISTRY_FULL);
    heartbeats =
        counter(
            meters,
            "conveyor_router_heartbeats_total",
            "Heartbeats answered for registered sidecars");
    unknownSidecarCalls =
        counter(
            meters,
            "conveyor_router_unknown_sidecar_calls_total",
            "Heartbeats and watches of sidecars this router does not know, answered NOT_FOUND so"
                + " that they register again");
    deregistrations =
        counter(
            meters,
            "conveyor_router_deregistrations_total",
            "Sidecars that deregistered on leaving");
    expirations =
        counter(
            meters,
            "conveyor_router_expirations_total",
            "Sidecars removed after missing their heartbeats");
    droppedWatchCommands =
        counter(
            meters,
            "conveyor_router_watch_commands_dropped_total",
            "Drain and revoke commands a sidecar's watch stream never sent: past the "
                + WatchStream.MAX_HELD_COMMANDS
                + " it holds while the sidecar does not read, or still held when the stream ended");
    assignmentPushes = new Pushes(meters);
  }

  /** Assignment sets written on watch streams, whole or as deltas, and their bytes. */
  static final class Pushes {
    private final Counter full;
    private final Counter deltas;
    private final Counter fullBytes;
    private final Counter deltaBytes;

    Pushes(MeterRegistry meters) {
      String sets = "conveyor_router_watch_assignments_total";
      String bytes = "conveyor_router_watch_assignment_bytes_total";
      String setsHelp =
          "Assignment sets written on watch streams: whole (full) or as the changes from the"
              + " previous one (delta)";
      String bytesHelp = "Serialized bytes of those sets and deltas";
      full = Counter.builder(sets).description(setsHelp).tag("kind", "full").register(meters);
      deltas = Counter.builder(sets).description(setsHelp).tag("kind", "delta").register(meters);
      fullBytes =
          Counter.builder(bytes).description(bytesHelp).tag("kind", "full").register(meters);
      deltaBytes =
          Counter.builder(bytes).description(bytesHelp).tag("kind", "delta").register(meters);
    }

    void full(int bytes) {
      full.increment();
      fullBytes.increment(bytes);
    }

    void delta(int bytes) {
      deltas.increment();
      deltaBytes.increment(bytes);
    }
  }

  /** The counter of registrations refused for {@code reason}, one of the REFUSED_ values. */
  Counter registrationsRefused(String reason) {
    return switch (reason) {
      case REFUSED_INVALID -> refusedInvalid;
      case REFUSED_REGISTRY_FULL -> refusedRegistryFull;
      default -> throw new IllegalArgumentException("unknown refusal reason " + reason);
    };
  }

  /** Registers the gauges of {@code core}; the caller removes them when it stops serving it. */
  static List<Meter> gauges(MeterRegistry meters, RouterCore core) {
    return List.of(
        Gauge.builder("conveyor_router_sidecars", core, c -> c.sidecars().size())
            .description("Sidecars registered with this router")
            .register(meters),
        Gauge.builder("conveyor_router_pipelines", core, c -> c.pipelines().size())
            .description("Pipelines this router routes")
            .register(meters),
        FunctionCounter.builder("conveyor_router_replans_total", core, RouterCore::replans)
            .description(
                "Times the router re-planned the assignments; registrations that arrive together"
                    + " are planned together, so a storm costs fewer re-plans than registrations")
            .register(meters));
  }

  private static Counter refused(MeterRegistry meters, String reason) {
    return Counter.builder("conveyor_router_registrations_refused_total")
        .description(
            "Sidecar registrations refused: invalid (no sidecar id or endpoint, INVALID_ARGUMENT)"
                + " or registry_full (RESOURCE_EXHAUSTED)")
        .tag("reason", reason)
        .register(meters);
  }

  private static Counter counter(MeterRegistry meters, String name, String description) {
    return Counter.builder(name).description(description).register(meters);
  }
}

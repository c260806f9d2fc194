package io.conveyor.operator.status;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.crd.ServiceStatus;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.router.registry.SidecarRecord;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Computes the status of a ConveyorSidecar from its pod, the router's view of its sidecar and the
 * previous status. Pure: no clock, no I/O; the same inputs give the same status.
 *
 * <p>The previous status matters for three things. Conditions keep their transition times. A
 * sidecar that was registered and is no longer known while its pod runs is {@link
 * SidecarPhase#Lost}, not {@link SidecarPhase#Pending}. And {@code lastHeartbeat} is carried over
 * unchanged until it is older than the refresh period, so heartbeats alone never cause a write.
 */
public final class SidecarStatusCalculator {

  public static final String POD_READY = "PodReady";
  public static final String SIDECAR_CONTAINER_READY = "SidecarContainerReady";
  public static final String REGISTERED = "Registered";
  public static final String SERVICES_HEALTHY = "ServicesHealthy";
  public static final String READY = "Ready";

  private static final Duration MIN_RECHECK = Duration.ofSeconds(1);

  private final Duration heartbeatRefresh;

  /**
   * @param heartbeatRefresh how stale {@code lastHeartbeat} may get before a write refreshes it on
   *     its own
   */
  public SidecarStatusCalculator(Duration heartbeatRefresh) {
    if (heartbeatRefresh.isNegative() || heartbeatRefresh.isZero()) {
      throw new IllegalArgumentException("heartbeat refresh must be positive: " + heartbeatRefresh);
    }
    this.heartbeatRefresh = heartbeatRefresh;
  }

  /**
   * The status to hold, and when to look again even if nothing happens (to refresh {@code
   * lastHeartbeat}, or once the router's warm-up after a fail-over is over).
   */
  public record Result(ConveyorSidecarStatus status, Optional<Duration> recheckAfter) {}

  /** How the router part of the status was obtained. */
  private enum Source {
    /** The router has a registration for the pod. */
    REGISTRY,
    /** A new leader is warming up: the previous facts stand until the sidecar re-registers. */
    CARRIED,
    /** The router had the sidecar and no longer has it. */
    LOST,
    /** The sidecar never registered (with this pod). */
    NONE
  }

  /**
   * What the sidecar reported, as the router holds it (or as the previous status carried it over):
   * the phase and conditions are decided on these enums, and strings are only written out.
   */
  private record Reported(SidecarState state, List<ReportedService> services) {
    static final Reported NOTHING = new Reported(SidecarState.SIDECAR_STATE_UNSPECIFIED, List.of());

    static Reported from(SidecarRecord record) {
      return new Reported(
          record.state(),
          record.services().stream()
              .map(s -> new ReportedService(serviceStatus(s), s.getHealth()))
              .sorted(
                  Comparator.comparing((ReportedService s) -> s.status().getName())
                      .thenComparing(s -> s.status().getEndpoint()))
              .toList());
    }

    /** The facts a status written earlier recorded, read back from its strings. */
    static Reported carriedIn(ConveyorSidecarStatus previous) {
      return new Reported(
          SidecarStateName.parse(previous.getSidecarState()),
          previous.getServices().stream()
              .map(s -> new ReportedService(s, ServiceHealthName.parse(s.getHealth())))
              .toList());
    }

    List<String> notServing() {
      return services.stream()
          .filter(s -> s.health() == ServiceHealth.SERVICE_HEALTH_NOT_SERVING)
          .map(s -> s.status().getName())
          .toList();
    }
  }

  private record ReportedService(ServiceStatus status, ServiceHealth health) {}

  public Result compute(
      PodFacts pod,
      RouterFacts router,
      ConveyorSidecarStatus previous,
      long generation,
      Instant now) {
    ConveyorSidecarStatus prev = previous == null ? new ConveyorSidecarStatus() : previous;
    ConveyorSidecarStatus next = new ConveyorSidecarStatus();
    next.setObservedGeneration(generation);
    next.setPodUID(pod.uid());
    next.setPodPhase(pod.phase());
    next.setPodIP(pod.podIP());
    next.setNodeName(pod.nodeName());
    pod.sidecar()
        .ifPresent(
            c -> {
              next.setSidecarContainerReady(c.ready());
              next.setSidecarRestarts(c.restarts());
              next.setProfile(c.profile());
            });

    Duration recheck = null;
    boolean wasRegistered = Boolean.TRUE.equals(prev.getRegistered());
    Source source;
    Reported reported = Reported.NOTHING;
    if (router.sidecar().isPresent()) {
      source = Source.REGISTRY;
      reported = Reported.from(router.sidecar().get());
      fillFromRegistry(next, router.sidecar().get(), reported, router.pipelines());
    } else if (wasRegistered && router.warmingUp(now)) {
      source = Source.CARRIED;
      reported = Reported.carriedIn(prev);
      carryRouterFields(prev, next);
      recheck = atLeastMin(Duration.between(now, router.warmUpUntil().orElseThrow()));
    } else if ((wasRegistered || prev.getPhase() == SidecarPhase.Lost) && !pod.finished()) {
      source = Source.LOST;
      next.setRegistered(false);
      next.setSidecarId(prev.getSidecarId());
      next.setEndpoint(prev.getEndpoint());
      next.setLastHeartbeat(prev.getLastHeartbeat());
    } else {
      source = Source.NONE;
      next.setRegistered(false);
    }

    ConditionSet conditions = new ConditionSet(prev.getConditions(), generation, now);
    setPodConditions(pod, conditions);
    setRouterConditions(next, reported, source, prev, pod, conditions);
    SidecarPhase phase = phase(pod, reported, source, prev);
    next.setPhase(phase);
    setReady(phase, next, pod, conditions);
    next.setConditions(conditions.toList());

    if (source == Source.REGISTRY) {
      recheck = settleHeartbeat(next, prev, router.sidecar().get().lastHeartbeat(), now);
    }
    return new Result(next, Optional.ofNullable(recheck));
  }

  // ------------------------------------------------------------------ router facts

  private static void fillFromRegistry(
      ConveyorSidecarStatus next, SidecarRecord record, Reported reported, List<String> pipelines) {
    next.setRegistered(true);
    next.setSidecarId(record.sidecarId());
    next.setSidecarState(SidecarStateName.of(record.state()));
    next.setSidecarVersion(blankToNull(record.sidecarVersion()));
    next.setEndpoint(record.dataPlaneEndpoint());
    next.setRegisteredAt(Timestamps.format(record.registeredAt()));
    next.setLastHeartbeat(Timestamps.format(record.lastHeartbeat()));
    List<ServiceStatus> services =
        reported.services().stream()
            .map(ReportedService::status)
            .collect(Collectors.toCollection(ArrayList::new));
    next.setServices(services);
    next.setServiceNames(
        services.stream()
            .map(ServiceStatus::getName)
            .distinct()
            .collect(Collectors.toCollection(ArrayList::new)));
    next.setPipelines(
        pipelines.stream().sorted().distinct().collect(Collectors.toCollection(ArrayList::new)));
  }

  private static void carryRouterFields(ConveyorSidecarStatus prev, ConveyorSidecarStatus next) {
    next.setRegistered(prev.getRegistered());
    next.setSidecarId(prev.getSidecarId());
    next.setSidecarState(prev.getSidecarState());
    next.setSidecarVersion(prev.getSidecarVersion());
    next.setEndpoint(prev.getEndpoint());
    next.setRegisteredAt(prev.getRegisteredAt());
    next.setLastHeartbeat(prev.getLastHeartbeat());
    next.setServices(new ArrayList<>(prev.getServices()));
    next.setServiceNames(new ArrayList<>(prev.getServiceNames()));
    next.setPipelines(new ArrayList<>(prev.getPipelines()));
  }

  private static ServiceStatus serviceStatus(DiscoveredService service) {
    return new ServiceStatus(
        service.getDescription().getName(),
        switch (service.getDescription().getType()) {
          case SERVICE_TYPE_SOURCE -> "source";
          case SERVICE_TYPE_TRANSFORM -> "transform";
          case SERVICE_TYPE_SINK -> "sink";
          default -> "unknown";
        },
        ServiceHealthName.of(service.getHealth()),
        blankToNull(service.getEndpoint()),
        blankToNull(service.getGrpcService()));
  }

  // ------------------------------------------------------------------ phase

  private static SidecarPhase phase(
      PodFacts pod, Reported reported, Source source, ConveyorSidecarStatus prev) {
    if (pod.deleting() || pod.finished()) {
      return SidecarPhase.Terminating;
    }
    boolean registered = source == Source.REGISTRY || source == Source.CARRIED;
    if (registered && reported.state() == SidecarState.SIDECAR_STATE_DRAINING) {
      return SidecarPhase.Terminating;
    }
    if (registered) {
      boolean containerReady = pod.sidecar().map(PodFacts.SidecarContainer::ready).orElse(false);
      boolean healthy =
          reported.state() == SidecarState.SIDECAR_STATE_SERVING
              && pod.ready()
              && containerReady
              && !reported.services().isEmpty()
              && reported.notServing().isEmpty();
      if (healthy) {
        return SidecarPhase.Ready;
      }
      boolean wasUp =
          prev.getPhase() == SidecarPhase.Ready || prev.getPhase() == SidecarPhase.Degraded;
      return !reported.notServing().isEmpty() || wasUp
          ? SidecarPhase.Degraded
          : SidecarPhase.Registered;
    }
    return source == Source.LOST ? SidecarPhase.Lost : SidecarPhase.Pending;
  }

  // ------------------------------------------------------------------ conditions

  private static void setPodConditions(PodFacts pod, ConditionSet conditions) {
    if (pod.ready()) {
      conditions.set(POD_READY, true, "PodReady", "the pod is ready");
    } else {
      conditions.set(
          POD_READY,
          false,
          orDefault(pod.readyReason(), pod.running() ? "PodNotReady" : "Pod" + pod.phase()),
          orDefault(pod.readyMessage(), "the pod is " + pod.phase() + " and not ready"));
    }
    Optional<PodFacts.SidecarContainer> container = pod.sidecar();
    if (container.isEmpty()) {
      conditions.set(
          SIDECAR_CONTAINER_READY,
          false,
          "ContainerMissing",
          "the pod carries the injection label but has no conveyor-sidecar container");
      return;
    }
    PodFacts.SidecarContainer c = container.get();
    if (c.ready()) {
      conditions.set(SIDECAR_CONTAINER_READY, true, "ContainerReady", "conveyor-sidecar is ready");
    } else if (c.waitingReason() != null) {
      conditions.set(
          SIDECAR_CONTAINER_READY,
          false,
          c.waitingReason(),
          orDefault(c.waitingMessage(), "conveyor-sidecar is waiting: " + c.waitingReason()));
    } else if (c.terminatedReason() != null) {
      conditions.set(
          SIDECAR_CONTAINER_READY,
          false,
          c.terminatedReason(),
          "conveyor-sidecar terminated: " + c.terminatedReason());
    } else {
      conditions.set(
          SIDECAR_CONTAINER_READY, false, "ContainerNotReady", "conveyor-sidecar is not ready yet");
    }
  }

  private static void setRouterConditions(
      ConveyorSidecarStatus next,
      Reported reported,
      Source source,
      ConveyorSidecarStatus prev,
      PodFacts pod,
      ConditionSet conditions) {
    switch (source) {
      case REGISTRY -> {
        if (reported.state() == SidecarState.SIDECAR_STATE_DRAINING) {
          conditions.set(
              REGISTERED, true, "Draining", "sidecar " + next.getSidecarId() + " is draining");
        } else {
          conditions.set(
              REGISTERED,
              true,
              "Registered",
              "sidecar "
                  + next.getSidecarId()
                  + " registered at "
                  + next.getRegisteredAt()
                  + ", data plane at "
                  + next.getEndpoint());
        }
        setServicesCondition(reported, conditions);
      }
      case CARRIED -> {
        if (!conditions.carry(REGISTERED)) {
          conditions.set(
              REGISTERED,
              ConditionSet.UNKNOWN,
              "RouterFailover",
              "a new router leader took over; waiting for the sidecar to register again");
        }
        if (!conditions.carry(SERVICES_HEALTHY)) {
          setServicesCondition(reported, conditions);
        }
      }
      case LOST -> {
        conditions.set(
            REGISTERED,
            false,
            "SidecarLost",
            "the router no longer knows sidecar "
                + orDefault(next.getSidecarId(), "?")
                + " (it missed its heartbeats or deregistered) while the pod is "
                + pod.phase()
                + "; last heartbeat recorded at "
                + orDefault(prev.getLastHeartbeat(), "?"));
        conditions.set(
            SERVICES_HEALTHY,
            ConditionSet.UNKNOWN,
            "NotRegistered",
            "services are reported by the sidecar while it is registered");
      }
      case NONE -> {
        conditions.set(
            REGISTERED,
            false,
            "AwaitingRegistration",
            "the sidecar has not registered with the router yet");
        conditions.set(
            SERVICES_HEALTHY,
            ConditionSet.UNKNOWN,
            "NotRegistered",
            "services are reported by the sidecar once it registers");
      }
    }
  }

  private static void setServicesCondition(Reported reported, ConditionSet conditions) {
    List<String> failing = reported.notServing();
    if (reported.services().isEmpty()) {
      conditions.set(
          SERVICES_HEALTHY,
          false,
          "NoServicesDiscovered",
          "the sidecar found no Conveyor service in the pod (yet)");
    } else if (!failing.isEmpty()) {
      conditions.set(
          SERVICES_HEALTHY,
          false,
          "ServiceNotServing",
          "not serving: " + String.join(", ", failing));
    } else {
      conditions.set(
          SERVICES_HEALTHY,
          true,
          "ServicesServing",
          "serving: "
              + reported.services().stream()
                  .map(ReportedService::status)
                  .map(s -> s.getName() + " (" + s.getType() + ")")
                  .collect(Collectors.joining(", ")));
    }
  }

  private static void setReady(
      SidecarPhase phase, ConveyorSidecarStatus next, PodFacts pod, ConditionSet conditions) {
    if (phase == SidecarPhase.Ready) {
      conditions.set(
          READY,
          true,
          "Ready",
          "serving "
              + next.getServices().size()
              + " service(s), assigned to "
              + next.getPipelines().size()
              + " pipeline(s)");
      return;
    }
    if (phase == SidecarPhase.Terminating) {
      String reason =
          pod.deleting() ? "PodDeleting" : pod.finished() ? "Pod" + pod.phase() : "SidecarDraining";
      String message =
          pod.deleting()
              ? "the pod is being deleted"
              : pod.finished()
                  ? "the pod has finished (" + pod.phase() + ")"
                  : "the sidecar is draining before it exits";
      conditions.set(READY, false, reason, message);
      return;
    }
    // The first condition that is not True explains why the sidecar is not ready.
    for (String type : List.of(REGISTERED, SIDECAR_CONTAINER_READY, POD_READY, SERVICES_HEALTHY)) {
      Condition c = conditions.get(type);
      if (c != null && !ConditionSet.TRUE.equals(c.getStatus())) {
        conditions.set(READY, false, c.getReason(), c.getMessage());
        return;
      }
    }
    conditions.set(
        READY,
        false,
        "SidecarStarting",
        "sidecar " + next.getSidecarId() + " reports state " + next.getSidecarState());
  }

  // ------------------------------------------------------------------ heartbeat granularity

  /**
   * Keeps the previous {@code lastHeartbeat} while it is younger than the refresh period and
   * nothing else changed, so heartbeats alone never make the status differ. Returns when to look
   * again to refresh it.
   */
  private Duration settleHeartbeat(
      ConveyorSidecarStatus next, ConveyorSidecarStatus prev, Instant heartbeat, Instant now) {
    Optional<Instant> recorded =
        next.getSidecarId().equals(prev.getSidecarId())
            ? Timestamps.parse(prev.getLastHeartbeat())
            : Optional.empty();
    if (recorded.isPresent()
        && !heartbeat.isBefore(recorded.get())
        && Duration.between(recorded.get(), heartbeat).compareTo(heartbeatRefresh) < 0) {
      String current = next.getLastHeartbeat();
      next.setLastHeartbeat(prev.getLastHeartbeat());
      if (StatusComparison.same(next, prev)) {
        return atLeastMin(Duration.between(now, recorded.get().plus(heartbeatRefresh)));
      }
      // Something else changed and is written anyway: the heartbeat time rides along.
      next.setLastHeartbeat(current);
    }
    return atLeastMin(Duration.between(now, heartbeat.plus(heartbeatRefresh)));
  }

  private static Duration atLeastMin(Duration d) {
    return d.compareTo(MIN_RECHECK) < 0 ? MIN_RECHECK : d;
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }
}

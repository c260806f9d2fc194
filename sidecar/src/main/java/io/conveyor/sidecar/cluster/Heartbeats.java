package io.conveyor.sidecar.cluster;

import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.HeartbeatResponse;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.SynchronizationContext.ScheduledHandle;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeats of one registration, at the interval the router hands out. A heartbeat that fails
 * is not retried: the next one follows on schedule, and routing continues meanwhile with the
 * assignments held. Only "unknown sidecar" (NOT_FOUND) ends the registration.
 *
 * <p>Confined to the client's synchronization context. Once stopped, a late answer is dropped.
 */
final class Heartbeats {

  private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);
  private static final Duration MIN_TIMEOUT = Duration.ofMillis(500);

  private final SynchronizationContext context;
  private final RouterConnection router;
  private final Supplier<HeartbeatRequest> request;
  private final ScheduledExecutorService timer;
  private final SidecarMetrics metrics;
  private final String routerEndpoint;
  private final RouterEvents events;

  private Duration interval;
  private boolean failing;
  private boolean stopped;
  private ScheduledHandle periodic;

  Heartbeats(
      SynchronizationContext context,
      RouterConnection router,
      Supplier<HeartbeatRequest> request,
      Duration interval,
      ScheduledExecutorService timer,
      SidecarMetrics metrics,
      String routerEndpoint,
      RouterEvents events) {
    this.context = context;
    this.router = router;
    this.request = request;
    this.interval = interval;
    this.timer = timer;
    this.metrics = metrics;
    this.routerEndpoint = routerEndpoint;
    this.events = events;
  }

  /** The first heartbeat follows one interval from now. */
  void start() {
    schedule();
  }

  /** One heartbeat now, besides the periodic ones (a change the router should know of). */
  void now() {
    send();
  }

  /** The interval in force (the router may have changed it). */
  Duration interval() {
    return interval;
  }

  void stop() {
    stopped = true;
    if (periodic != null) {
      periodic.cancel();
    }
  }

  private void schedule() {
    if (periodic != null) {
      periodic.cancel();
    }
    long period = interval.toMillis();
    // Fixed delay, not rate: after a stall the sidecar sends one heartbeat, not a burst.
    periodic =
        context.scheduleWithFixedDelay(this::send, period, period, TimeUnit.MILLISECONDS, timer);
  }

  private void send() {
    if (stopped) {
      return;
    }
    if (failing) {
      router.reconnectNow();
    }
    Duration timeout =
        Duration.ofMillis(
            Math.min(
                RouterConnection.CALL_TIMEOUT.toMillis(),
                Math.max(MIN_TIMEOUT.toMillis(), interval.toMillis())));
    router.heartbeat(
        request.get(), timeout, new ContextObserver<>(context, this::answered, this::failed));
  }

  private void answered(HeartbeatResponse response) {
    if (stopped) {
      return;
    }
    metrics.heartbeat("ok");
    if (failing) {
      failing = false;
      log.info("router {} answers heartbeats again", routerEndpoint);
    }
    if (response.getHeartbeatIntervalSeconds() > 0
        && response.getHeartbeatIntervalSeconds() != interval.toSeconds()) {
      interval = Duration.ofSeconds(response.getHeartbeatIntervalSeconds());
      schedule();
    }
    events.commands(response.getCommandsList());
  }

  private void failed(Status status) {
    if (stopped) {
      return;
    }
    if (status.getCode() == Status.Code.NOT_FOUND) {
      metrics.heartbeat("unknown_sidecar");
      events.unknownSidecar(
          "the router does not know this sidecar (" + RouterConnection.describe(status) + ")");
      return;
    }
    metrics.heartbeat("error");
    if (!failing) {
      failing = true;
      log.warn(
          "heartbeat to router {} failed ({}); routing continues with the last assignments",
          routerEndpoint,
          RouterConnection.describe(status));
    }
  }
}

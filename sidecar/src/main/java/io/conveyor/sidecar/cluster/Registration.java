package io.conveyor.sidecar.cluster;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.SynchronizationContext.ScheduledHandle;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One registration: {@code RegisterSidecar} until the router answers, waiting with backoff and
 * jitter after each failure. The router may be away for long (not started yet, restarting): the
 * sidecar keeps trying at a bounded pace, never in a tight loop and never by crashing.
 *
 * <p>Confined to the client's synchronization context. Once stopped, a late answer is dropped: it
 * belongs to a registration the client has given up, and must not undo what came after.
 */
final class Registration {

  private static final Logger log = LoggerFactory.getLogger(Registration.class);

  private final SynchronizationContext context;
  private final RouterConnection router;
  private final Supplier<RegisterSidecarRequest> request;
  private final Backoff backoff;
  private final RandomGenerator random;
  private final ScheduledExecutorService timer;
  private final SidecarMetrics metrics;
  private final String routerEndpoint;
  private final Consumer<RegisterSidecarResponse> onRegistered;

  private int failures;
  private boolean callInFlight;
  private boolean stopped;
  private ScheduledHandle retry;

  Registration(
      SynchronizationContext context,
      RouterConnection router,
      Supplier<RegisterSidecarRequest> request,
      Backoff backoff,
      RandomGenerator random,
      ScheduledExecutorService timer,
      SidecarMetrics metrics,
      String routerEndpoint,
      Consumer<RegisterSidecarResponse> onRegistered) {
    this.context = context;
    this.router = router;
    this.request = request;
    this.backoff = backoff;
    this.random = random;
    this.timer = timer;
    this.metrics = metrics;
    this.routerEndpoint = routerEndpoint;
    this.onRegistered = onRegistered;
  }

  /** Sends the first attempt now. */
  void start() {
    attempt();
  }

  /** Whether a RegisterSidecar call is on its way: the router may know this sidecar any moment. */
  boolean callInFlight() {
    return callInFlight;
  }

  /** Sends nothing more and drops any answer still to come. */
  void stop() {
    stopped = true;
    if (retry != null) {
      retry.cancel();
    }
  }

  private void attempt() {
    if (stopped) {
      return;
    }
    if (failures > 0) {
      router.reconnectNow();
    }
    callInFlight = true;
    router.register(request.get(), new ContextObserver<>(context, this::answered, this::failed));
  }

  private void answered(RegisterSidecarResponse response) {
    callInFlight = false;
    if (stopped) {
      return;
    }
    stopped = true; // done: this registration sends nothing more
    metrics.registration("ok");
    onRegistered.accept(response);
  }

  private void failed(Status status) {
    callInFlight = false;
    if (stopped) {
      return;
    }
    metrics.registration("error");
    Duration delay = backoff.delay(failures++, random);
    if (failures == 1 || failures % 10 == 0) {
      log.warn(
          "cannot register with router {} ({}); attempt {}, retrying in {} ms",
          routerEndpoint,
          RouterConnection.describe(status),
          failures,
          delay.toMillis());
    }
    retry = context.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS, timer);
  }
}

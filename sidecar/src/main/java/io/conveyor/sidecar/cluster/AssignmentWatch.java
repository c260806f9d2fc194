package io.conveyor.sidecar.cluster;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.SynchronizationContext.ScheduledHandle;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch stream of one registration: the router pushes assignment changes, revokes and drains on
 * it at once instead of waiting for the next heartbeat. A stream that ends is reopened with backoff
 * (from the version applied by then); NOT_FOUND means the router no longer knows this sidecar and
 * ends the registration instead.
 *
 * <p>Confined to the client's synchronization context. Only the current stream of a running watch
 * is listened to: the end of a stream this watch cancelled, or of an older one, is dropped.
 */
final class AssignmentWatch {

  private static final Logger log = LoggerFactory.getLogger(AssignmentWatch.class);

  private final SynchronizationContext context;
  private final RouterConnection router;
  private final LongFunction<WatchAssignmentsRequest> request;
  private final LongSupplier appliedVersion;
  private final Backoff backoff;
  private final RandomGenerator random;
  private final ScheduledExecutorService timer;
  private final RouterEvents events;

  private int failures;

  /** Resyncs asked for since a delta last applied: the second and later wait out a backoff. */
  private int resyncs;

  private boolean stopped;
  private Stream current;
  private ScheduledHandle reopen;

  AssignmentWatch(
      SynchronizationContext context,
      RouterConnection router,
      LongFunction<WatchAssignmentsRequest> request,
      LongSupplier appliedVersion,
      Backoff backoff,
      RandomGenerator random,
      ScheduledExecutorService timer,
      RouterEvents events) {
    this.context = context;
    this.router = router;
    this.request = request;
    this.appliedVersion = appliedVersion;
    this.backoff = backoff;
    this.random = random;
    this.timer = timer;
    this.events = events;
  }

  void open() {
    if (stopped) {
      return;
    }
    Stream stream = new Stream();
    current = stream;
    stream.call = router.watch(request.apply(appliedVersion.getAsLong()), stream);
  }

  void stop() {
    stopped = true;
    if (reopen != null) {
      reopen.cancel();
    }
    if (current != null) {
      Stream ending = current;
      current = null;
      ending.call.cancel(null);
    }
  }

  /**
   * Asks the router for the full set: ends the current stream and opens one from the applied
   * version, which the router answers with the full set. At once the first time; when resyncs
   * follow each other without a delta applying in between (which a correct router never causes),
   * after the same backoff as a failed stream, so that no loop can hammer the router.
   */
  void resync() {
    if (stopped) {
      return;
    }
    if (current != null) {
      Stream ending = current;
      current = null;
      ending.call.cancel(null);
    }
    if (reopen != null) {
      reopen.cancel();
    }
    if (resyncs++ == 0) {
      open();
      return;
    }
    Duration delay = backoff.delay(resyncs - 2, random);
    log.debug("resyncing the watch again; reopening in {} ms", delay.toMillis());
    reopen = context.schedule(this::open, delay.toMillis(), TimeUnit.MILLISECONDS, timer);
  }

  /** A delta applied: the stream is in step with the router again. */
  void deltaApplied() {
    resyncs = 0;
  }

  private void updated(Stream stream, AssignmentUpdate update) {
    if (stopped || stream != current) {
      return;
    }
    failures = 0;
    events.commands(update.getCommandsList());
  }

  private void ended(Stream stream, Status status) {
    if (stopped || stream != current) {
      return; // cancelled by this watch, or an older stream
    }
    current = null;
    if (status.getCode() == Status.Code.NOT_FOUND) {
      events.unknownSidecar(
          "the router ended the watch stream: " + RouterConnection.describe(status));
      return;
    }
    Duration delay = backoff.delay(failures++, random);
    log.debug(
        "watch stream ended ({}); reopening in {} ms",
        RouterConnection.describe(status),
        delay.toMillis());
    reopen =
        context.schedule(
            () -> {
              router.reconnectNow();
              open();
            },
            delay.toMillis(),
            TimeUnit.MILLISECONDS,
            timer);
  }

  /** One stream of the watch; its callbacks run on the context and name the stream they are of. */
  private final class Stream implements StreamObserver<AssignmentUpdate> {

    /** Set by {@link #open()} before any callback can run: they queue behind it. */
    private Context.CancellableContext call;

    @Override
    public void onNext(AssignmentUpdate update) {
      context.execute(() -> updated(this, update));
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      context.execute(() -> ended(this, status));
    }

    @Override
    public void onCompleted() {
      context.execute(
          () -> ended(this, Status.UNAVAILABLE.withDescription("router ended the watch")));
    }
  }
}

package io.conveyor.sidecar.cluster;

import io.conveyor.common.retry.Backoff;
import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.WatchAssignmentsRequest;
import io.conveyor.proto.delta.AssignmentPatch;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.SynchronizationContext.ScheduledHandle;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch stream of one registration: the router pushes assignment changes, revokes and drains on
 * it at once instead of waiting for the next heartbeat. A stream that ends is reopened with backoff
 * (from the version applied by then); NOT_FOUND means the router no longer knows this sidecar and
 * ends the registration instead.
 *
 * <p>Deltas: the router computes a stream's delta from the set it last sent on that stream (or the
 * one the sidecar held when it opened the stream), which is not always the applied set: a heartbeat
 * reply's full set may have overtaken a set the stream's pacing held back. So each stream keeps its
 * own base, and a delta is turned into the full set here, from that base, before the client sees
 * it. One that does not fit its base (a message lost) is dropped and the watch resyncs.
 *
 * <p>Confined to the client's synchronization context. Only the current stream of a running watch
 * is listened to: the end of a stream this watch cancelled, or of an older one, is dropped.
 */
final class AssignmentWatch {

  private static final Logger log = LoggerFactory.getLogger(AssignmentWatch.class);

  private final SynchronizationContext context;
  private final RouterConnection router;
  private final LongFunction<WatchAssignmentsRequest> request;
  private final Supplier<AssignmentSet> appliedSet;
  private final Backoff backoff;
  private final RandomGenerator random;
  private final ScheduledExecutorService timer;
  private final RouterEvents events;
  private final Counter resyncCount;

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
      Supplier<AssignmentSet> appliedSet,
      Backoff backoff,
      RandomGenerator random,
      ScheduledExecutorService timer,
      RouterEvents events,
      Counter resyncCount) {
    this.context = context;
    this.router = router;
    this.request = request;
    this.appliedSet = appliedSet;
    this.backoff = backoff;
    this.random = random;
    this.timer = timer;
    this.events = events;
    this.resyncCount = resyncCount;
  }

  void open() {
    if (stopped) {
      return;
    }
    Stream stream = new Stream();
    current = stream;
    // The router diffs from the set of the version we name, when it is its current one.
    stream.base = appliedSet.get();
    stream.call = router.watch(request.apply(stream.base.getVersion()), stream);
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

  private void updated(Stream stream, AssignmentUpdate update) {
    if (stopped || stream != current) {
      return;
    }
    failures = 0;
    List<Command> commands = new ArrayList<>(update.getCommandsCount());
    boolean outOfStep = false;
    for (Command command : update.getCommandsList()) {
      if (command.hasAssign()) {
        stream.base = command.getAssign();
        outOfStep = false;
        commands.add(command);
      } else if (!command.hasDelta()) {
        commands.add(command); // revokes and drains count whatever happens to the sets
      } else if (!outOfStep) {
        AssignmentSet set = patched(stream, command.getDelta());
        outOfStep = set == null;
        if (set != null) {
          commands.add(Command.newBuilder().setAssign(set).build());
        }
      }
    }
    events.commands(commands);
    if (outOfStep) {
      resync();
    }
  }

  /**
   * The set {@code delta} gives on top of the stream's base (which it becomes), or null when it
   * does not fit that base. A result older than the applied set is still the stream's new base; the
   * client ignores it as late.
   */
  private AssignmentSet patched(Stream stream, AssignmentDelta delta) {
    try {
      if (stream.base.getVersion() == 0) {
        throw new AssignmentPatch.MismatchException("no assignment set on this stream yet");
      }
      stream.base = AssignmentPatch.apply(stream.base, delta);
      resyncs = 0; // in step with the router again
      return stream.base;
    } catch (AssignmentPatch.MismatchException e) {
      log.info(
          "assignment delta to version {} not applied ({}); keeping version {} and asking the"
              + " router for the full set",
          delta.getVersion(),
          e.getMessage(),
          appliedSet.get().getVersion());
      resyncCount.increment();
      return null;
    }
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

    /** The set the router's next delta on this stream is based on. */
    private AssignmentSet base;

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

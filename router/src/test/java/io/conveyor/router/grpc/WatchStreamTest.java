package io.conveyor.router.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.conveyor.etl.v1.AssignmentDelta;
import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DrainSidecar;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RevokePipeline;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.proto.delta.AssignmentPatch;
import io.conveyor.testkit.MutableClock;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class WatchStreamTest {

  /** A server stream whose readiness the test controls; remembers what was sent. */
  static final class FakeServerStream extends ServerCallStreamObserver<AssignmentUpdate> {
    final List<AssignmentUpdate> sent = new CopyOnWriteArrayList<>();
    final AtomicInteger writers = new AtomicInteger();
    final AtomicInteger mostWritersAtOnce = new AtomicInteger();
    volatile boolean ready = true;
    volatile boolean cancelled;
    volatile Throwable error;

    /** Runs inside onNext before the update is recorded, with the number of the write. */
    volatile IntConsumerThatMayWait duringWrite = n -> {};

    interface IntConsumerThatMayWait {
      void accept(int writeNumber) throws InterruptedException;
    }

    private final AtomicInteger writes = new AtomicInteger();

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(AssignmentUpdate value) {
      if (error != null) {
        throw new IllegalStateException("call is closed");
      }
      int now = writers.incrementAndGet();
      mostWritersAtOnce.accumulateAndGet(now, Math::max);
      try {
        duringWrite.accept(writes.incrementAndGet());
        sent.add(value);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        writers.decrementAndGet();
      }
    }

    @Override
    public void onError(Throwable t) {
      if (writers.get() > 0) {
        throw new IllegalStateException("onError while onNext runs on another thread");
      }
      error = t;
    }

    @Override
    public void onCompleted() {}
  }

  /** Runs scheduled flushes when the test moves the clock past their time: no sleeping. */
  static final class ManualScheduler implements WatchStream.FlushScheduler {
    private record Scheduled(long dueNanos, Runnable task) {}

    private final MutableClock clock;
    private final List<Scheduled> tasks = new ArrayList<>();

    ManualScheduler(MutableClock clock) {
      this.clock = clock;
    }

    @Override
    public synchronized void schedule(Runnable task, long delayNanos) {
      tasks.add(new Scheduled(clock.nanoTime() + delayNanos, task));
    }

    /** Moves the clock and runs what has come due, as the timer would. */
    void advance(Duration by) {
      clock.advance(by);
      List<Runnable> due = new ArrayList<>();
      synchronized (this) {
        tasks.removeIf(
            t -> {
              if (t.dueNanos() <= clock.nanoTime()) {
                due.add(t.task());
                return true;
              }
              return false;
            });
      }
      due.forEach(Runnable::run);
    }

    synchronized int pending() {
      return tasks.size();
    }
  }

  private final MutableClock clock = new MutableClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final FakeServerStream stream = new FakeServerStream();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final Counter dropped = meters.counter("dropped");
  private final WatchStream watch = paced(Duration.ZERO);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger watchLog = (Logger) LoggerFactory.getLogger(WatchStream.class);

  @BeforeEach
  void captureLogs() {
    logs.start();
    watchLog.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    watchLog.detachAppender(logs);
  }

  private WatchStream paced(Duration interval) {
    return stream(interval, false);
  }

  private WatchStream stream(Duration interval, boolean acceptsDeltas) {
    return new WatchStream(
        "sc-a",
        stream,
        scheduler,
        clock.nanos(),
        interval,
        dropped,
        acceptsDeltas,
        new RouterMetrics.Pushes(meters));
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private static AssignmentUpdate update(Command... commands) {
    return AssignmentUpdate.newBuilder().addAllCommands(List.of(commands)).build();
  }

  private static Command assign(long version) {
    return Command.newBuilder().setAssign(AssignmentSet.newBuilder().setVersion(version)).build();
  }

  private static Command drain(String reason) {
    return Command.newBuilder().setDrain(DrainSidecar.newBuilder().setReason(reason)).build();
  }

  private static Command revoke(String pipeline) {
    return Command.newBuilder()
        .setRevoke(RevokePipeline.newBuilder().setPipeline(pipeline))
        .build();
  }

  @Test
  void aReadyStreamGetsEachBatchAsOneUpdateAtOnce() {
    watch.send(List.of(revoke("p"), assign(7)));
    watch.send(List.of(assign(8)));

    assertThat(stream.sent)
        .containsExactly(
            AssignmentUpdate.newBuilder().addCommands(revoke("p")).addCommands(assign(7)).build(),
            AssignmentUpdate.newBuilder().addCommands(assign(8)).build());
  }

  @Test
  void aStalledStreamCostsOneSetTheNewestWithOtherCommandsKeptInOrder() {
    stream.ready = false;
    watch.send(List.of(assign(7)));
    watch.send(List.of(revoke("p"), assign(8)));
    watch.send(List.of(drain("bye")));
    watch.send(List.of(assign(6))); // late, older: must not replace 8

    assertThat(stream.sent).isEmpty();

    stream.ready = true;
    watch.flush();

    assertThat(stream.sent)
        .containsExactly(
            AssignmentUpdate.newBuilder()
                .addCommands(revoke("p"))
                .addCommands(drain("bye"))
                .addCommands(assign(8))
                .build());
  }

  @Test
  void aSetOlderThanOneAlreadySentIsNeverSent() {
    // Two changes computed as 8 then 9 under the router's lock, delivered in the other order.
    watch.send(List.of(assign(9)));
    watch.send(List.of(revoke("p"), assign(8)));

    assertThat(stream.sent)
        .containsExactly(
            AssignmentUpdate.newBuilder().addCommands(assign(9)).build(),
            AssignmentUpdate.newBuilder().addCommands(revoke("p")).build());
  }

  @Test
  void aBurstOfSetsCostsOneSetPerIntervalTheNewest() {
    WatchStream paced = paced(Duration.ofSeconds(2));

    paced.send(List.of(assign(1)));
    paced.send(List.of(assign(2)));
    paced.send(List.of(assign(3)));

    assertThat(stream.sent).as("the first set goes at once, the others wait").hasSize(1);
    assertThat(scheduler.pending()).as("one delayed flush, however many sets wait").isEqualTo(1);
    scheduler.advance(Duration.ofMillis(1_999));
    assertThat(stream.sent).hasSize(1);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(stream.sent).containsExactly(update(assign(1)), update(assign(3)));
  }

  @Test
  void otherCommandsAreNotHeldBackByThePacing() {
    WatchStream paced = paced(Duration.ofSeconds(2));
    paced.send(List.of(assign(1)));

    paced.send(List.of(revoke("p"), assign(2)));
    paced.send(List.of(drain("bye")));

    assertThat(stream.sent)
        .containsExactly(update(assign(1)), update(revoke("p")), update(drain("bye")));
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(stream.sent).hasSize(4);
    assertThat(stream.sent.get(3)).isEqualTo(update(assign(2)));
  }

  @Test
  void aSetAfterAQuietIntervalGoesAtOnce() {
    WatchStream paced = paced(Duration.ofMillis(200));
    paced.send(List.of(assign(1)));

    clock.advance(Duration.ofMillis(300));
    paced.send(List.of(assign(2)));

    assertThat(stream.sent).containsExactly(update(assign(1)), update(assign(2)));
    assertThat(scheduler.pending()).isZero();
  }

  @Test
  void aSetThatAdmitsANewCallerWaitsATenthOfTheInterval() {
    WatchStream paced = paced(Duration.ofSeconds(1));
    paced.send(List.of(assign(callers(1, "spiffe://a"))));

    // A restarted caller registered: it holds this sidecar as a target at once, so the grant must
    // not wait out the second.
    paced.send(List.of(assign(callers(2, "spiffe://a", "spiffe://b"))));
    assertThat(stream.sent).hasSize(1);
    scheduler.advance(Duration.ofMillis(100));

    assertThat(stream.sent)
        .containsExactly(
            update(assign(callers(1, "spiffe://a"))),
            update(assign(callers(2, "spiffe://a", "spiffe://b"))));
  }

  @Test
  void aGrantAfterAQuietTenthOfTheIntervalGoesAtOnce() {
    WatchStream paced = paced(Duration.ofSeconds(1));
    paced.send(List.of(assign(callers(1, "spiffe://a"))));

    clock.advance(Duration.ofMillis(150));
    paced.send(List.of(assign(callers(2, "spiffe://a", "spiffe://b"))));

    assertThat(stream.sent).hasSize(2);
    assertThat(scheduler.pending()).isZero();
  }

  @Test
  void aSetThatOnlyRemovesCallersIsStillPaced() {
    WatchStream paced = paced(Duration.ofSeconds(1));
    paced.send(List.of(assign(callers(1, "spiffe://a", "spiffe://b"))));

    paced.send(List.of(assign(callers(2, "spiffe://a"))));

    scheduler.advance(Duration.ofMillis(999));
    assertThat(stream.sent).hasSize(1);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(stream.sent)
        .containsExactly(
            update(assign(callers(1, "spiffe://a", "spiffe://b"))),
            update(assign(callers(2, "spiffe://a"))));
  }

  @Test
  void aHeldRemovalReplacedByANewGrantGoesWithTheGrant() {
    WatchStream paced = paced(Duration.ofSeconds(1));
    paced.send(List.of(assign(callers(1, "spiffe://a", "spiffe://b"))));
    paced.send(List.of(assign(callers(2, "spiffe://a")))); // b left: held

    paced.send(List.of(assign(callers(3, "spiffe://a", "spiffe://c")))); // c came: a grant
    scheduler.advance(Duration.ofMillis(100));

    assertThat(stream.sent)
        .containsExactly(
            update(assign(callers(1, "spiffe://a", "spiffe://b"))),
            update(assign(callers(3, "spiffe://a", "spiffe://c"))));
  }

  @Test
  void aCallerThatLeftAndCameBackBeforeTheSetWentOutIsNoGrant() {
    WatchStream paced = paced(Duration.ofSeconds(1));
    paced.send(List.of(assign(callers(1, "spiffe://a", "spiffe://b"))));
    paced.send(List.of(assign(callers(2, "spiffe://a")))); // b left: held
    paced.send(List.of(assign(callers(3, "spiffe://a", "spiffe://b")))); // b back

    // The sidecar still admits b (it never got set 2): nothing to hurry.
    scheduler.advance(Duration.ofMillis(999));
    assertThat(stream.sent).hasSize(1);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(stream.sent).hasSize(2);
  }

  @Test
  void aGrantGoesAsADeltaOfTheAddedCallerOnly() {
    WatchStream paced = stream(Duration.ofSeconds(1), true);
    paced.send(List.of(assign(callers(1, "spiffe://a"))));
    paced.send(List.of(assign(callers(2, "spiffe://a", "spiffe://b"))));
    scheduler.advance(Duration.ofMillis(100));

    assertThat(stream.sent).hasSize(2);
    Command second = stream.sent.get(1).getCommands(0);
    assertThat(second.hasDelta()).isTrue();
    assertThat(second.getDelta().getStageChangesList())
        .singleElement()
        .satisfies(
            change ->
                assertThat(change.getAllowedCallersAddedList()).containsExactly("spiffe://b"));
    assertThat(heldBySidecar()).isEqualTo(callers(2, "spiffe://a", "spiffe://b"));
  }

  /** A set whose one local stage admits {@code callers}. */
  private static AssignmentSet callers(long version, String... callers) {
    return AssignmentSet.newBuilder()
        .setVersion(version)
        .addPipelines(
            PipelineAssignment.newBuilder()
                .setPipeline("p")
                .addStages(
                    StageAssignment.newBuilder()
                        .setIndex(0)
                        .setName("sink")
                        .setRole(StageRole.STAGE_ROLE_SINK)
                        .setLocal(true)
                        .addAllAllowedCallers(List.of(callers))))
        .build();
  }

  @Test
  void aPacedSetWaitsForAStalledTransportAsWell() {
    WatchStream paced = paced(Duration.ofMillis(100));
    paced.send(List.of(assign(1)));
    stream.ready = false;

    paced.send(List.of(assign(2)));
    scheduler.advance(Duration.ofMillis(300));
    assertThat(stream.sent).hasSize(1);

    stream.ready = true;
    paced.flush(); // the transport's on-ready
    assertThat(stream.sent).containsExactly(update(assign(1)), update(assign(2)));
  }

  @Test
  void flushWithNothingHeldSendsNothing() {
    watch.flush();

    assertThat(stream.sent).isEmpty();
  }

  @Test
  void commandsPastTheBoundAreCountedAndLoggedOncePerStallWithTheirCount() {
    stream.ready = false;
    IntStream.range(0, 100).forEach(i -> watch.send(List.of(revoke("p" + i))));

    assertThat(dropped.count()).as("counted as they are dropped").isEqualTo(36);
    assertThat(warnings()).as("logged once, when the stall ends").isEmpty();

    stream.ready = true;
    watch.flush();

    assertThat(stream.sent)
        .singleElement()
        .satisfies(u -> assertThat(u.getCommandsCount()).isEqualTo(64));
    assertThat(warnings())
        .singleElement()
        .satisfies(line -> assertThat(line).contains("dropped 36 command(s) for sidecar sc-a"));

    watch.send(List.of(revoke("after")));
    stream.ready = false;
    IntStream.range(0, 66).forEach(i -> watch.send(List.of(revoke("q" + i))));
    stream.ready = true;
    watch.flush();

    assertThat(dropped.count()).isEqualTo(38);
    assertThat(warnings())
        .as("a second stall is a second episode")
        .hasSize(2)
        .last()
        .satisfies(line -> assertThat(line).contains("dropped 2 command(s)"));
  }

  @Test
  void dropsOfAStallThatEndsWithTheStreamAreCountedAndLoggedToo() {
    stream.ready = false;
    IntStream.range(0, 70).forEach(i -> watch.send(List.of(revoke("p" + i))));

    watch.cancelled();
    watch.send(List.of(revoke("late")));

    assertThat(dropped.count()).as("6 past the bound and the 64 held").isEqualTo(70);
    assertThat(warnings())
        .singleElement()
        .satisfies(line -> assertThat(line).contains("dropped 70 command(s)"));
  }

  @Test
  void commandsStillHeldWhenTheStreamIsClosedCountAsDropped() {
    stream.ready = false;
    watch.send(List.of(drain("bye"), assign(5)));

    watch.close("replaced by a newer watch of the same sidecar");

    assertThat(stream.sent).isEmpty();
    assertThat(dropped.count()).as("the drain; the set is not a loss").isEqualTo(1);
    assertThat(warnings())
        .singleElement()
        .satisfies(line -> assertThat(line).contains("dropped 1 command(s)"));
  }

  @Test
  void aSenderDoesNotWaitForAnotherSendersWriteAndSetsLeaveInVersionOrder() throws Exception {
    CountDownLatch inFirstWrite = new CountDownLatch(1);
    CountDownLatch finishFirstWrite = new CountDownLatch(1);
    stream.duringWrite =
        n -> {
          if (n == 1) {
            inFirstWrite.countDown();
            finishFirstWrite.await(10, TimeUnit.SECONDS);
          }
        };
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<?> first = threads.submit(() -> watch.send(List.of(assign(7))));
      assertThat(inFirstWrite.await(10, TimeUnit.SECONDS)).isTrue();

      // While the first thread is inside onNext, a second one hands over newer commands. It must
      // neither wait for that write nor write beside it.
      Future<?> second =
          threads.submit(
              () -> {
                watch.send(List.of(revoke("p"), assign(8)));
                watch.send(List.of(assign(9)));
                watch.close("replaced by a newer watch of the same sidecar");
              });
      second.get(10, TimeUnit.SECONDS);
      assertThat(stream.sent).as("nothing written beside the running write").isEmpty();

      finishFirstWrite.countDown();
      first.get(10, TimeUnit.SECONDS);
    } finally {
      finishFirstWrite.countDown();
      threads.shutdownNow();
    }

    assertThat(stream.sent)
        .as("the writing thread took what the other left, in version order")
        .containsExactly(update(assign(7)), update(revoke("p"), assign(9)));
    assertThat(stream.mostWritersAtOnce.get()).isEqualTo(1);
    assertThat(Status.fromThrowable(stream.error).getDescription())
        .as("closed after the last write, by the writer")
        .contains("replaced by a newer watch");
  }

  @Test
  void closeEndsTheStreamWithNotFoundAndLaterSendsAreDropped() {
    watch.close("deregistered");
    watch.close("twice");
    watch.send(List.of(assign(9)));

    Status status = Status.fromThrowable(stream.error);
    assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(status.getDescription()).isEqualTo("watch of sidecar sc-a ended: deregistered");
    assertThat(stream.sent).isEmpty();
  }

  @Test
  void aCancelledStreamIsNeitherWrittenNorClosed() {
    stream.cancelled = true;

    watch.send(List.of(assign(9)));
    watch.close("gone");

    assertThat(stream.sent).isEmpty();
    assertThat(stream.error).isNull();
  }

  @Test
  void aWriteThatThrowsDoesNotLeaveTheStreamStuck() {
    stream.duringWrite =
        n -> {
          if (n == 1) {
            throw new IllegalStateException("transport broke once");
          }
        };

    try {
      watch.send(List.of(assign(1)));
    } catch (IllegalStateException expected) {
      // The caller (the core's delivery) isolates it.
    }
    watch.send(List.of(assign(2)));

    assertThat(stream.sent).containsExactly(update(assign(2)));
  }

  @Test
  void aStreamThatTakesDeltasCarriesSetsUntilAWriteFailsOrItEnds() {
    WatchStream deltas = stream(Duration.ZERO, true);
    WatchStream whole = stream(Duration.ZERO, false);
    assertThat(deltas.carriesSets()).isTrue();
    assertThat(whole.carriesSets()).isFalse();

    stream.duringWrite =
        n -> {
          throw new IllegalStateException("transport broke");
        };
    try {
      deltas.send(List.of(assign(1)));
    } catch (IllegalStateException expected) {
      // The set it took may be lost: heartbeat replies must carry sets again.
    }
    assertThat(deltas.carriesSets()).isFalse();

    WatchStream ended = stream(Duration.ZERO, true);
    ended.close("replaced");
    assertThat(ended.carriesSets()).isFalse();
  }

  // ---------------------------------------------------------------- deltas

  /** Version {@code version} of a set whose one pipeline has a sink with targets {@code ids}. */
  private static AssignmentSet withSinks(long version, String... ids) {
    StageAssignment.Builder sink =
        StageAssignment.newBuilder()
            .setIndex(1)
            .setName("warehouse")
            .setRole(StageRole.STAGE_ROLE_SINK);
    for (String id : ids) {
      sink.addTargets(
          StageTarget.newBuilder()
              .setSidecarId(id)
              .setEndpoint(id + ".pods.test:9191")
              .setPodName("pod-" + id)
              .setNamespace("default"));
    }
    return AssignmentSet.newBuilder()
        .setVersion(version)
        .addPipelines(
            PipelineAssignment.newBuilder()
                .setPipeline("orders-etl")
                .setGeneration(1)
                .addStages(
                    StageAssignment.newBuilder()
                        .setIndex(0)
                        .setName("orders")
                        .setRole(StageRole.STAGE_ROLE_SOURCE)
                        .setLocal(true))
                .addStages(sink))
        .build();
  }

  private static Command assign(AssignmentSet set) {
    return Command.newBuilder().setAssign(set).build();
  }

  /** What a sidecar holds after applying every update sent, from nothing. */
  private AssignmentSet heldBySidecar() {
    AssignmentSet held = AssignmentSet.getDefaultInstance();
    for (AssignmentUpdate update : stream.sent) {
      for (Command command : update.getCommandsList()) {
        if (command.hasAssign()) {
          held = command.getAssign();
        } else if (command.hasDelta()) {
          held = AssignmentPatch.apply(held, command.getDelta());
        }
      }
    }
    return held;
  }

  @Test
  void aSidecarThatAcceptsDeltasGetsTheFirstSetWholeThenTheChanges() {
    WatchStream deltas = stream(Duration.ZERO, true);
    AssignmentSet last = withSinks(9, "sc-b", "sc-c", "sc-e");

    deltas.send(List.of(assign(withSinks(7, "sc-b", "sc-c", "sc-d"))));
    deltas.send(List.of(revoke("p"), assign(withSinks(8, "sc-b", "sc-c"))));
    deltas.send(List.of(assign(last)));

    assertThat(stream.sent).hasSize(3);
    assertThat(stream.sent.get(0).getCommands(0).hasAssign()).isTrue();
    assertThat(stream.sent.get(1).getCommandsList())
        .as("the revoke first, then the set as a delta from 7")
        .satisfiesExactly(
            revoke -> assertThat(revoke).isEqualTo(revoke("p")),
            delta ->
                assertThat(delta.getDelta().getStageChanges(0).getTargetsRemovedList())
                    .containsExactly("sc-d"));
    assertThat(stream.sent.get(2).getCommands(0).getDelta().getBaseVersion()).isEqualTo(8);
    assertThat(heldBySidecar()).isEqualTo(last);
    assertThat(meters.counter("conveyor_router_watch_assignments_total", "kind", "delta").count())
        .isEqualTo(2.0);
  }

  @Test
  void coalescedSetsGoAsOneDeltaFromTheLastSetSent() {
    WatchStream deltas = stream(Duration.ofSeconds(1), true);
    deltas.send(List.of(assign(withSinks(7, "sc-b"))));
    deltas.send(List.of(assign(withSinks(8, "sc-b", "sc-c"))));
    deltas.send(List.of(assign(withSinks(9, "sc-b", "sc-c", "sc-d"))));
    scheduler.advance(Duration.ofSeconds(1));

    assertThat(stream.sent).hasSize(2);
    AssignmentDelta delta = stream.sent.get(1).getCommands(0).getDelta();
    assertThat(delta.getBaseVersion()).isEqualTo(7);
    assertThat(delta.getVersion()).isEqualTo(9);
    assertThat(delta.getStageChanges(0).getTargetsUpsertedList())
        .extracting(StageTarget::getSidecarId)
        .containsExactly("sc-c", "sc-d");
    assertThat(heldBySidecar()).isEqualTo(withSinks(9, "sc-b", "sc-c", "sc-d"));
  }

  @Test
  void theSetTheSidecarSaysItHoldsIsTheBaseOfTheFirstDeltaWhichIsNotPaced() {
    clock.advance(Duration.ofMillis(10)); // a monotonic clock reads anything at the start
    WatchStream deltas = stream(Duration.ofSeconds(1), true);
    deltas.holds(withSinks(7, "sc-b", "sc-c"));
    deltas.send(List.of(assign(withSinks(6, "sc-b")))); // older than what it holds: never sent
    deltas.send(List.of(assign(withSinks(8, "sc-b"))));

    assertThat(stream.sent).as("sent at once: nothing went out on this stream yet").hasSize(1);
    assertThat(stream.sent.get(0).getCommands(0).getDelta().getBaseVersion()).isEqualTo(7);
  }

  @Test
  void aDeltaNoSmallerThanTheSetGoesWhole() {
    WatchStream deltas = stream(Duration.ZERO, true);
    deltas.send(List.of(assign(withSinks(7, "sc-b", "sc-c"))));
    // The pipeline is gone: the set is its version alone, smaller than any delta naming it.
    deltas.send(List.of(assign(AssignmentSet.newBuilder().setVersion(8).build())));

    assertThat(stream.sent.get(1).getCommands(0).hasAssign()).isTrue();
  }

  @Test
  void aSidecarThatDoesNotAcceptDeltasGetsWholeSets() {
    watch.send(List.of(assign(withSinks(7, "sc-b", "sc-c"))));
    watch.send(List.of(assign(withSinks(8, "sc-b", "sc-c", "sc-d"))));

    assertThat(stream.sent)
        .allSatisfy(update -> assertThat(update.getCommands(0).hasAssign()).isTrue());
  }
}

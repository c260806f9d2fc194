package io.conveyor.router.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.AssignmentUpdate;
import io.conveyor.etl.v1.Command;
import io.conveyor.etl.v1.DrainSidecar;
import io.conveyor.etl.v1.RevokePipeline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WatchStreamTest {

  /** A server stream whose readiness the test controls; remembers what was sent. */
  static final class FakeServerStream extends ServerCallStreamObserver<AssignmentUpdate> {
    final List<AssignmentUpdate> sent = new CopyOnWriteArrayList<>();
    volatile boolean ready = true;
    boolean cancelled;
    Throwable error;

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
      sent.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {}
  }

  private final FakeServerStream stream = new FakeServerStream();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final WatchStream watch =
      new WatchStream("sc-a", stream, timer, Runnable::run, Duration.ZERO);

  @AfterEach
  void stopTimer() {
    timer.shutdownNow();
  }

  private WatchStream paced(Duration interval) {
    return new WatchStream("sc-a", stream, timer, Runnable::run, interval);
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
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.sent.size() == 2);
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
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.sent.size() == 4);
    assertThat(stream.sent.get(3)).isEqualTo(update(assign(2)));
  }

  @Test
  void aSetAfterAQuietIntervalGoesAtOnce() {
    WatchStream paced = paced(Duration.ofMillis(200));
    paced.send(List.of(assign(1)));

    await().pollDelay(Duration.ofMillis(300)).until(() -> true);
    paced.send(List.of(assign(2)));

    assertThat(stream.sent).containsExactly(update(assign(1)), update(assign(2)));
  }

  @Test
  void aPacedSetWaitsForAStalledTransportAsWell() {
    WatchStream paced = paced(Duration.ofMillis(100));
    paced.send(List.of(assign(1)));
    stream.ready = false;

    paced.send(List.of(assign(2)));
    await().pollDelay(Duration.ofMillis(300)).until(() -> true);
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
  void heldCommandsOtherThanSetsAreBounded() {
    stream.ready = false;
    IntStream.range(0, 100).forEach(i -> watch.send(List.of(revoke("p" + i))));
    stream.ready = true;
    watch.flush();

    assertThat(stream.sent)
        .singleElement()
        .satisfies(u -> assertThat(u.getCommandsCount()).isEqualTo(64));
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
}

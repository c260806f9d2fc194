package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whatever ends a push stream, every batch accepted on it is answered first. A graceful stop waits
 * for nothing to be in flight, then closes the push streams, and a batch the sink confirmed must
 * have had its ack sent by then; a stream the sidecar ends because of a later batch (its pipeline
 * revoked, a batch too large) ends only once the batches before it are answered.
 */
class PushStreamAnswersEveryBatchTest {

  private TestSidecar sidecar;
  private FakeStages.Sink sink;
  private ManagedChannel channel;

  @BeforeEach
  void setUp() {
    sidecar = new TestSidecar("sidecar-a", Map.of("PUSH_CREDITS", "4"));
    sink = new FakeStages.Sink("store");
    String sinkEndpoint = sidecar.stage("a-sink", sink);
    sidecar.services(TestSidecar.source("orders"), TestSidecar.sink("store", sinkEndpoint));
    sidecar.assign(
        assignment(
            1,
            pipeline(
                "etl",
                delivery(100, 3),
                stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, sidecar, sidecar),
                stage(1, "store", StageRole.STAGE_ROLE_SINK, sidecar, sidecar))));
    channel = sidecar.channel();
  }

  @AfterEach
  void tearDown() {
    sink.open();
    channel.shutdownNow();
    sidecar.close();
  }

  /**
   * The interleaving of the defect, forced: the test holds the push stream's monitor while the sink
   * confirms the batch, so the thread answering the batch cannot send its ack until the test lets
   * go. The test then does what the shutdown does — wait for nothing in flight, close the push
   * streams — as early as the sidecar lets it. Were the batch released from the in-flight count
   * before its ack went out, the shutdown would close the stream in that gap and the ack would be
   * lost; answered first, the batch stays in flight until its ack is sent.
   */
  @Test
  void aBatchTheSinkConfirmedIsAnsweredBeforeTheDrainClosesTheStream() throws Exception {
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().hasReady()).isTrue();
    client.send(batch("b1", 0, 5, 20));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);
    PushStream stream = sidecar.plane.pushStreams().open().get(0);
    sidecar.lifecycle.draining();

    boolean closedWhileHoldingTheStream = false;
    synchronized (stream) {
      sink.open();
      // Idle while the answer is held back by this monitor means it was released un-answered.
      long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
      while (System.nanoTime() < until) {
        if (sidecar.inFlight.batches() == 0) {
          sidecar.plane.closePushStreams();
          closedWhileHoldingTheStream = true;
          break;
        }
        Thread.onSpinWait();
      }
    }
    if (!closedWhileHoldingTheStream) {
      assertThat(sidecar.inFlight.awaitIdle(Duration.ofSeconds(5))).isTrue();
      sidecar.plane.closePushStreams();
    }

    Status status = client.awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    List<PushResponse> acks = client.responses.stream().filter(PushResponse::hasAck).toList();
    assertThat(acks).as("acks received before the stream ended").hasSize(1);
    assertThat(acks.get(0).getAck().getBatchId()).isEqualTo("b1");
    assertThat(acks.get(0).getAck().getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED)
        .hasSize(5);
  }

  @Test
  void aRevokeEndsTheStreamOnlyAfterTheBatchStillInTheSinkIsAnswered() throws Exception {
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().hasReady()).isTrue();
    client.send(batch("b1", 0, 5, 20));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);

    sidecar.plane.revoke("etl", true, "pipeline removed");
    client.send(batch("b2", 5, 5, 20));
    PushResponse refused = client.nextAck();
    assertThat(refused.getAck().getBatchId()).isEqualTo("b2");
    assertThat(refused.getAck().getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    assertThat(client.closed).as("ended while b1 is unanswered").isNotDone();

    sink.open();
    PushResponse delivered = client.nextAck();
    assertThat(delivered.getAck().getBatchId()).isEqualTo("b1");
    assertThat(delivered.getAck().getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(client.awaitClosed().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
  }

  @Test
  void aBatchTooLargeEndsTheStreamOnlyAfterTheBatchesBeforeItAreAnswered() throws Exception {
    sink.hold();
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().hasReady()).isTrue();
    client.send(batch("b1", 0, 5, 20));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.calls.get() == 1);

    int overLimit = sidecar.config.maxMessageBytes() / 10 + 100;
    client.send(batch("huge", 5, 10, overLimit));
    client.send(batch("after", 15, 2, 20));
    PushResponse after = client.nextAck();
    assertThat(after.getAck().getBatchId()).isEqualTo("after");
    assertThat(after.getAck().getResult().getErrors(0).getMessage())
        .contains("ending")
        .contains("MAX_MESSAGE_BYTES");
    assertThat(client.closed).as("ended while b1 is unanswered").isNotDone();

    sink.open();
    assertThat(client.nextAck().getAck().getBatchId()).isEqualTo("b1");
    Status status = client.awaitClosed();
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription()).contains("huge");
    assertThat(sink.calls.get()).as("only b1 reached the sink").isEqualTo(1);
  }

  /** A batch that arrives once draining began is answered, failed retryably, not processed. */
  @Test
  void aBatchArrivingDuringTheDrainIsAnsweredWithoutBeingProcessed() throws Exception {
    PushClient client = new PushClient(channel).init("etl", "orders");
    assertThat(client.next().hasReady()).isTrue();
    sidecar.lifecycle.draining();
    client.send(batch("late", 0, 3, 20));

    PushResponse ack = client.nextAck();
    assertThat(ack.getAck().getResult().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED)
        .hasSize(3);
    assertThat(ack.getAck().getResult().getErrors(0).getMessage()).contains("draining");
    assertThat(sink.calls.get()).isZero();
    // Released just after its answer went out (answered first, by design).
    await().atMost(Duration.ofSeconds(5)).until(() -> sidecar.inFlight.batches() == 0);
  }
}

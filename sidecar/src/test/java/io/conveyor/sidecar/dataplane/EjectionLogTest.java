package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.remoteStage;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * While the only sidecar running a stage is down, every batch fails against it: that is one
 * ejection episode, logged once when it starts and once when the sidecar answers again.
 */
class EjectionLogTest {

  private final Logger logger = (Logger) LoggerFactory.getLogger(ForwardCall.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    logger.detachAppender(logs);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private static PipelineAssignment etl(TestSidecar self, TestSidecar a, StageAssignment sink) {
    return pipeline(
        "etl",
        delivery(500, 2),
        stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, self, a),
        stage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, self, a),
        sink);
  }

  private List<ILoggingEvent> logged(Level level) {
    return logs.list.stream().filter(e -> e.getLevel() == level).toList();
  }

  @Test
  void aDownSidecarIsLoggedOncePerEpisodeWithTheCountOfFailedCalls() throws Exception {
    TestSidecar a = new TestSidecar("a");
    closeables.add(a);
    a.services(
        TestSidecar.source("orders"),
        TestSidecar.transform("mask", a.stage("a-mask", FakeStages.Transform.passThrough("mask"))));
    // Nothing serves "b" yet: the pod is down.
    a.assign(assignment(1, etl(a, a, remoteStage(2, "store", StageRole.STAGE_ROLE_SINK, "b"))));
    ManagedChannel channel = a.channel();
    closeables.add(channel::shutdownNow);
    PushClient source = new PushClient(channel).init("etl", "orders");
    source.next();

    for (int i = 0; i < 5; i++) {
      source.send(batch("down" + i, i * 10L, 3, 20));
      assertThat(source.nextAck().getAck().getResult().getOutcomesList())
          .containsOnly(RecordOutcome.RECORD_OUTCOME_FAILED);
    }
    // 5 batches x 3 attempts (maxRetries 2), every one against b.
    assertThat(callFailures(a)).isEqualTo(15);
    assertThat(logged(Level.WARN))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getFormattedMessage())
                  .contains("ejected b for")
                  .contains("sidecar b (b)");
              assertThat(e.getMDCPropertyMap()).containsEntry("pipeline", "etl");
            });

    // b comes up; batches get through once a's channel to it reconnected.
    FakeStages.Sink sink = new FakeStages.Sink("store");
    TestSidecar b = new TestSidecar("b");
    closeables.add(b);
    b.services(TestSidecar.sink("store", b.stage("b-store", sink)));
    b.assign(assignment(1, etl(b, a, stage(2, "store", StageRole.STAGE_ROLE_SINK, b, b))));
    int[] sequence = {1000};
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              source.send(batch("up" + sequence[0], sequence[0], 3, 20));
              sequence[0] += 10;
              return source.nextAck().getAck().getResult().getOutcomesList().stream()
                  .allMatch(o -> o == RecordOutcome.RECORD_OUTCOME_DELIVERED);
            });

    long failedCalls = callFailures(a);
    assertThat(logged(Level.WARN)).hasSize(1);
    assertThat(logged(Level.INFO))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getFormattedMessage())
                    .contains(
                        "sidecar b (b) answers again after " + failedCalls + " failed calls"));
  }

  private static long callFailures(TestSidecar sidecar) {
    return (long)
        sidecar
            .meters
            .get("conveyor_sidecar_stage_call_failures")
            .tag("stage", "store")
            .counter()
            .count();
  }
}

package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.remoteStage;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.FailureKind;
import io.conveyor.etl.v1.RecordError;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.StageRole;
import io.conveyor.sidecar.discovery.ManualScheduler;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.conveyor.sidecar.routing.LocalService;
import io.conveyor.sidecar.routing.PipelineRoute;
import io.conveyor.sidecar.routing.RoutingTable;
import io.grpc.Deadline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The wait of a chunk whose stage has no instance, on a timer and a clock the test moves: it goes
 * on when the routing table lists one, and otherwise ends failed retryably — at the batch deadline,
 * when the pipeline leaves the table, when the batch is aborted, when the sidecar drains.
 */
class StageWaitsTest {

  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final ManualScheduler timer = new ManualScheduler();
  private final AtomicLong now = new AtomicLong(5_000_000_000L);
  private final Deadline.Ticker ticker =
      new Deadline.Ticker() {
        @Override
        public long nanoTime() {
          return now.get();
        }
      };
  private volatile RoutingTable table = table(1);
  private final StageWaits waits = new StageWaits(() -> table, timer, now::get);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final SidecarMetrics metrics = new SidecarMetrics(registry);
  private final List<ChunkDelivery> resumed = new ArrayList<>();

  /** Pipeline etl as sidecar "a" sees it, its sink run by {@code sinkSidecars}. */
  private static RoutingTable table(long version, String... sinkSidecars) {
    return RoutingTable.build(
        "a",
        assignment(
            version,
            pipeline(
                "etl",
                delivery(500, 2),
                remoteStage(0, "orders", StageRole.STAGE_ROLE_SOURCE, "a"),
                remoteStage(1, "mask", StageRole.STAGE_ROLE_TRANSFORM, "a"),
                remoteStage(2, "store", StageRole.STAGE_ROLE_SINK, sinkSidecars))),
        List.<LocalService>of());
  }

  private BatchRun batch(long deadlineNanos) {
    return new BatchRun(
        "etl", 3, Deadline.after(deadlineNanos, TimeUnit.NANOSECONDS, ticker), now::get);
  }

  private ChunkDelivery chunk(BatchRun batch) {
    PipelineRoute route = table.pipeline("etl").orElseThrow();
    return new ChunkDelivery(
        batch,
        route,
        route.stage(2),
        List.of(
            ByteString.copyFromUtf8("r0"),
            ByteString.copyFromUtf8("r1"),
            ByteString.copyFromUtf8("r2")),
        metrics.stage("etl", "store"));
  }

  private CompletableFuture<BatchOutcome> await(ChunkDelivery chunk) {
    return waits.await(
        chunk,
        resumedChunk -> {
          resumed.add(resumedChunk);
          BatchOutcome delivered = new BatchOutcome(resumedChunk.size());
          for (int i = 0; i < delivered.size(); i++) {
            delivered.deliver(i);
          }
          return CompletableFuture.completedFuture(delivered);
        });
  }

  private static List<RecordError> errors(CompletableFuture<BatchOutcome> answer) {
    assertThat(answer).isDone();
    return answer.join().toProto().getErrorsList();
  }

  @Test
  void theChunkGoesOnAlongTheNewRouteOnceTheStageHasAnInstance() {
    CompletableFuture<BatchOutcome> answer = await(chunk(batch(DEADLINE_NANOS)));
    assertThat(answer).isNotDone();
    assertThat(waits.waiting()).isEqualTo(1);
    assertThat(timer.pending()).hasSize(1); // the deadline

    table = table(2, "b");
    waits.tableChanged();
    timer.runNext(); // the check, on the timer

    assertThat(resumed).hasSize(1);
    assertThat(resumed.get(0).stage().remotes()).extracting(t -> t.endpoint()).containsExactly("b");
    assertThat(resumed.get(0).records()).hasSize(3);
    assertThat(answer.join().toProto().getOutcomesList())
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(waits.waiting()).isZero();
    assertThat(timer.pending()).as("the deadline was cancelled").isEmpty();
  }

  @Test
  void aChangeThatStillListsNoInstanceKeepsTheChunkWaiting() {
    CompletableFuture<BatchOutcome> answer = await(chunk(batch(DEADLINE_NANOS)));

    table = table(2);
    waits.tableChanged();
    timer.runNext();

    assertThat(answer).isNotDone();
    assertThat(resumed).isEmpty();
    assertThat(waits.waiting()).isEqualTo(1);
  }

  @Test
  void atTheBatchDeadlineTheRecordsFailRetryablyNamingTheStageAndTheWait() {
    CompletableFuture<BatchOutcome> answer = await(chunk(batch(DEADLINE_NANOS)));
    assertThat(timer.pending())
        .singleElement()
        .satisfies(t -> assertThat(t.delayMillis()).isEqualTo(30_000));

    now.addAndGet(DEADLINE_NANOS);
    timer.runNext();

    assertThat(errors(answer))
        .hasSize(3)
        .allSatisfy(
            e -> {
              assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
              assertThat(e.getStage()).isEqualTo("store");
              assertThat(e.getMessage())
                  .isEqualTo(
                      "no sidecar runs stage 'store' of pipeline etl: waited 30000 ms for one to"
                          + " register, until the batch deadline");
            });
    assertThat(waits.waiting()).isZero();
    assertThat(
            registry
                .get("conveyor_sidecar_records_out")
                .tag("stage", "store")
                .tag("outcome", "failed")
                .counter()
                .count())
        .isEqualTo(3.0);
  }

  @Test
  void aBatchWhoseDeadlinePassedAlreadyFailsWithoutWaiting() {
    CompletableFuture<BatchOutcome> answer = await(chunk(batch(0)));

    assertThat(errors(answer))
        .allSatisfy(
            e ->
                assertThat(e.getMessage())
                    .isEqualTo(
                        "no sidecar runs stage 'store' of pipeline etl and the batch deadline"
                            + " passed"));
    assertThat(timer.pending()).isEmpty();
    assertThat(waits.waiting()).isZero();
  }

  @Test
  void stopFailsEveryWaitAtOnceAndEveryLaterOneWithoutWaiting() {
    CompletableFuture<BatchOutcome> first = await(chunk(batch(DEADLINE_NANOS)));
    CompletableFuture<BatchOutcome> second = await(chunk(batch(DEADLINE_NANOS)));

    assertThat(waits.stop("sidecar a is draining")).isEqualTo(2);

    for (CompletableFuture<BatchOutcome> answer : List.of(first, second)) {
      assertThat(errors(answer))
          .allSatisfy(
              e -> {
                assertThat(e.getKind()).isEqualTo(FailureKind.FAILURE_KIND_RETRYABLE);
                assertThat(e.getMessage())
                    .isEqualTo(
                        "no sidecar runs stage 'store' of pipeline etl; sidecar a is draining");
              });
    }
    assertThat(timer.pending()).as("both deadlines cancelled").isEmpty();

    CompletableFuture<BatchOutcome> later = await(chunk(batch(DEADLINE_NANOS)));
    assertThat(errors(later))
        .allSatisfy(e -> assertThat(e.getMessage()).endsWith("; sidecar a is draining"));
    assertThat(timer.pending()).isEmpty();
    assertThat(waits.waiting()).isZero();
  }

  @Test
  void anAbortedBatchStopsWaitingWithTheAbortsReason() {
    BatchRun batch = batch(DEADLINE_NANOS);
    CompletableFuture<BatchOutcome> answer = await(chunk(batch));

    batch.abort("pipeline 'etl' was revoked");

    assertThat(errors(answer))
        .allSatisfy(e -> assertThat(e.getMessage()).isEqualTo("pipeline 'etl' was revoked"));
    assertThat(waits.waiting()).isZero();
    assertThat(timer.pending()).isEmpty();
  }

  @Test
  void aPipelineThatLeftTheTableFailsTheWaitAtOnce() {
    CompletableFuture<BatchOutcome> answer = await(chunk(batch(DEADLINE_NANOS)));

    table = RoutingTable.EMPTY;
    waits.tableChanged();
    timer.runNext();

    assertThat(errors(answer))
        .allSatisfy(
            e ->
                assertThat(e.getMessage())
                    .isEqualTo(
                        "no sidecar runs stage 'store' of pipeline etl and pipeline 'etl' is no"
                            + " longer assigned to this sidecar"));
    assertThat(resumed).isEmpty();
  }
}

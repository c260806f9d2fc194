package io.conveyor.examples.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.retry.Backoff;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.InProcess;
import io.conveyor.examples.support.SendRate;
import io.conveyor.examples.support.WorkloadSettings;
import io.conveyor.examples.transform.DemoTransform;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RecordPusherTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private FakeSidecar fake;
  private InProcess server;
  private final List<AutoCloseable> resources = new ArrayList<>();

  @BeforeEach
  void setUp() {
    fake = new FakeSidecar();
    server = InProcess.serve(fake);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
    server.close();
    fake.close();
  }

  private static PusherSettings settings(long records, int batchSize) {
    return settings(records, batchSize, 16);
  }

  private static PusherSettings settings(long records, int batchSize, int recordBytes) {
    WorkloadSettings workload =
        WorkloadSettings.defaults("demo-source")
            .withRecords(records)
            .withBatchSize(batchSize)
            .withRecordBytes(recordBytes)
            .withRetries(20, new Backoff(Duration.ofMillis(5), Duration.ofMillis(20), 2.0, 0.5));
    return PusherSettings.defaults("demo-source", workload)
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5))
        .withReconnectBackoff(new Backoff(Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.5));
  }

  private RecordPusher start(PusherSettings settings) {
    RecordPusher pusher = new RecordPusher(server.channel(), settings);
    resources.add(pusher);
    return pusher.start();
  }

  private RecordPusher runToCompletion(PusherSettings settings) throws InterruptedException {
    RecordPusher pusher = start(settings);
    assertThat(pusher.awaitCompletion(WAIT)).as("complete: %s", pusher.snapshot().line()).isTrue();
    assertThat(fake.creditViolations).as("batches sent beyond the granted credits").hasValue(0);
    return pusher;
  }

  private static long unfilteredBelow(long n) {
    return n - DemoTransform.filteredBelow(n, DemoTransform.DEFAULT_FILTER_PERIOD);
  }

  /** Every sequence in [0, n) that the filter rule keeps was written by the fake sink. */
  private void assertEverythingDelivered(long n) {
    Set<Long> expected =
        LongStream.range(0, n)
            .filter(s -> !DemoTransform.isFiltered(s))
            .boxed()
            .collect(Collectors.toSet());
    assertThat(fake.written).containsAll(expected);
  }

  @Test
  void pushesEveryRecordWithinTheGrantedCredits() throws InterruptedException {
    fake.credits = 4;
    fake.ackDelayMillis = 1;
    RecordPusher pusher = runToCompletion(settings(10_000, 100).withPipeline("demo"));

    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.produced()).isEqualTo(10_000);
    assertThat(s.delivered()).isEqualTo(9_000);
    assertThat(s.filtered()).isEqualTo(1_000);
    assertThat(s.failed()).isZero();
    assertThat(s.resent()).isZero();
    assertThat(s.sent()).isEqualTo(10_000);
    assertThat(s.batchesSent()).isEqualTo(100);
    assertThat(s.maxInFlightBatches()).isBetween(1, 4);
    assertThat(fake.maxOutstanding.get()).isLessThanOrEqualTo(4);
    assertThat(pusher.stats().latencyMicros().getTotalCount()).isEqualTo(100);
    assertThat(fake.inits).hasValue(1);
    assertThat(fake.initMessages.get(0).getSourceName()).isEqualTo("demo-source");
    assertThat(fake.initMessages.get(0).getPipeline()).isEqualTo("demo");
    assertThat(pusher.pipeline()).isEqualTo("demo");
    assertEverythingDelivered(10_000);
    assertThat(fake.duplicatesWritten).hasValue(0);
  }

  @Test
  void resendsExactlyTheRecordsAckedFailedRetryable() throws InterruptedException {
    fake.failOnce = s -> s % 7 == 3;
    RecordPusher pusher = runToCompletion(settings(2_000, 50));

    assertThat(fake.failedOnce).isNotEmpty();
    assertThat(fake.resentSequences()).isEqualTo(fake.failedOnce);
    assertThat(fake.arrivals.values()).allMatch(n -> n <= 2);
    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.resent()).isEqualTo(fake.failedOnce.size());
    assertThat(s.sent()).isEqualTo(2_000 + fake.failedOnce.size());
    assertThat(s.delivered()).isEqualTo(unfilteredBelow(2_000));
    assertEverythingDelivered(2_000);
    assertThat(fake.duplicatesWritten).hasValue(0);
  }

  @Test
  void rejectedAndDeadLetteredRecordsAreFinal() throws InterruptedException {
    fake.reject = s -> s == 5;
    fake.deadLetter = s -> s == 6;
    RecordPusher pusher = runToCompletion(settings(100, 10));
    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.failed()).isEqualTo(1);
    assertThat(s.deadLettered()).isEqualTo(1);
    assertThat(s.delivered()).isEqualTo(88);
    assertThat(s.resent()).isZero();
  }

  @Test
  void waitsOutBackpressureAndResumesOnCreditGrant() throws InterruptedException {
    fake.credits = 2;
    fake.ackDelayMillis = 2;
    fake.backpressureOnBatch = 5;
    fake.backpressureMillis = 150;
    long start = System.nanoTime();
    RecordPusher pusher = runToCompletion(settings(2_000, 100));

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(140));
    assertThat(fake.backpressureEpisodes).hasValue(1);
    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.backpressureEvents()).isEqualTo(1);
    assertThat(s.creditGrants()).isEqualTo(1);
    assertThat(s.maxInFlightBatches()).isLessThanOrEqualTo(2);
    assertThat(s.resent()).isZero();
    assertEverythingDelivered(2_000);
  }

  @Test
  void aDroppedStreamIsReconnectedAndItsUnackedBatchesResent() throws InterruptedException {
    fake.credits = 4;
    fake.ackDelayMillis = 5;
    fake.dropOnBatch = 10;
    RecordPusher pusher = runToCompletion(settings(3_000, 100));

    assertThat(fake.inits).hasValue(2);
    assertThat(fake.unackedAtStreamEnd).hasSizeGreaterThanOrEqualTo(100).contains(900L, 999L);
    assertThat(fake.resentSequences()).isEqualTo(fake.unackedAtStreamEnd);
    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.reconnects()).isEqualTo(1);
    assertThat(s.resent()).isEqualTo(fake.unackedAtStreamEnd.size());
    assertThat(s.batchesLost()).isEqualTo(fake.unackedAtStreamEnd.size() / 100);
    assertThat(s.delivered()).isEqualTo(unfilteredBelow(3_000));
    // The dropped batch had reached the sink: its 90 unfiltered records arrive twice.
    assertThat(fake.duplicatesWritten).hasValue(90);
    assertEverythingDelivered(3_000);
  }

  @Test
  void batchesRefusedAsTooLargeAreSentAgainInSmallerOnes() throws InterruptedException {
    fake.maxRecordsPerBatch = 30;
    RecordPusher pusher = runToCompletion(settings(1_000, 100));

    // 100 refused, 50 refused, 25 accepted: two refusals, two reconnects.
    assertThat(fake.inits).hasValue(3);
    assertThat(pusher.snapshot().reconnects()).isEqualTo(2);
    assertThat(pusher.snapshot().delivered()).isEqualTo(unfilteredBelow(1_000));
    assertEverythingDelivered(1_000);
  }

  @Test
  void batchesAreCutToTheMessageSizeTheSidecarAnnouncedSoNoneIsRefused()
      throws InterruptedException {
    // 100 records of about 1 KB a batch would be ~100 KB: past twice the limit, which the real
    // transport answers by resetting the stream (CANCELLED), not with RESOURCE_EXHAUSTED.
    fake.maxMessageBytes = 16 * 1024;
    RecordPusher pusher = runToCompletion(settings(2_000, 100, 1_000));

    assertThat(fake.oversizeBatches).hasValue(0);
    assertThat(fake.inits).hasValue(1);
    assertThat(pusher.snapshot().reconnects()).isZero();
    assertThat(pusher.snapshot().resent()).isZero();
    assertEverythingDelivered(2_000);
  }

  @Test
  void aRecordLargerThanTheLimitEndsThePusherInsteadOfLoopingOnTheTransportReset() {
    // One record of 40 KB against 16 KiB: over twice the limit, so the stream ends CANCELLED.
    fake.maxMessageBytes = 16 * 1024;
    RecordPusher pusher = start(settings(10, 4, 40_000));

    assertThatThrownBy(() -> pusher.awaitCompletion(WAIT))
        .isInstanceOfSatisfying(
            PushFailedException.class,
            e -> {
              assertThat(e.status().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              assertThat(e.status().getDescription()).contains("16384").contains("CANCELLED");
            });
    assertThat(fake.inits).as("streams opened").hasValue(1);
    assertThat(fake.oversizeBatches).hasValue(1);
  }

  @Test
  void givesUpWhenASingleRecordIsTooLarge() {
    fake.maxRecordsPerBatch = 0;
    RecordPusher pusher = start(settings(10, 4));

    assertThatThrownBy(() -> pusher.awaitCompletion(WAIT))
        .isInstanceOfSatisfying(
            PushFailedException.class,
            e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    // 4 refused, 2 refused, 1 refused: nothing smaller to try.
    assertThat(fake.inits).hasValue(3);
    assertThat(pusher.isComplete()).isFalse();
  }

  @Test
  void retriesInitRefusedWithFailedPrecondition() throws InterruptedException {
    fake.failPreconditionInits = 2;
    RecordPusher pusher = runToCompletion(settings(500, 100));
    assertThat(fake.inits).hasValue(3);
    assertThat(pusher.snapshot().reconnects()).isEqualTo(2);
    assertThat(pusher.snapshot().resent()).isZero();
    assertEverythingDelivered(500);
  }

  @Test
  void aBatchNotAckedInTimeIsResentOnANewStream() throws InterruptedException {
    fake.swallowBatch = 3;
    RecordPusher pusher =
        runToCompletion(
            settings(1_000, 100).withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(300)));

    DeliveryStats.Snapshot s = pusher.snapshot();
    assertThat(s.ackTimeouts()).isEqualTo(1);
    assertThat(fake.inits).hasValue(2);
    assertThat(fake.unackedAtStreamEnd).containsAll(LongStream.range(200, 300).boxed().toList());
    assertThat(fake.resentSequences()).isEqualTo(fake.unackedAtStreamEnd);
    assertThat(s.resent()).isEqualTo(fake.unackedAtStreamEnd.size());
    assertEverythingDelivered(1_000);
  }

  @Test
  void givesUpOnAnErrorReconnectingCannotFix() {
    fake.initError = Status.INVALID_ARGUMENT.withDescription("pipeline name is not valid");
    RecordPusher pusher = start(settings(100, 10));
    assertThatThrownBy(() -> pusher.awaitCompletion(WAIT))
        .isInstanceOfSatisfying(
            PushFailedException.class,
            e -> assertThat(e.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(fake.inits).hasValue(1);
    assertThat(pusher.isComplete()).isFalse();
  }

  @Test
  void keepsReconnectingWhileTheSidecarIsUnreachableAndStopsWhenClosed()
      throws InterruptedException {
    ManagedChannel nowhere =
        InProcessChannelBuilder.forName("no-such-sidecar").directExecutor().build();
    try {
      RecordPusher pusher = new RecordPusher(nowhere, settings(100, 10));
      pusher.start();
      Awaitility.await().atMost(WAIT).until(() -> pusher.snapshot().reconnects() >= 3);
      assertThat(pusher.snapshot().sent()).isZero();
      pusher.close();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(1))).isFalse();
    } finally {
      nowhere.shutdownNow();
    }
  }

  @Test
  void aFixedRateSpacesTheBatches() throws InterruptedException {
    PusherSettings settings = settings(1_000, 100);
    settings =
        settings.withWorkload(settings.workload().withRate(SendRate.recordsPerSecond(2_000)));
    long start = System.nanoTime();
    runToCompletion(settings);
    // 10 batches of 100 at 2,000 records/s: the first goes at once, the last after 450 ms.
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(430));
  }

  @Test
  void nothingToSendCompletesAtOnce() throws InterruptedException {
    RecordPusher pusher = runToCompletion(settings(0, 10));
    assertThat(pusher.snapshot().sent()).isZero();
    assertThat(fake.inits).hasValue(0);
  }
}

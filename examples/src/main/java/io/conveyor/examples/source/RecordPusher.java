package io.conveyor.examples.source;

import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushReady;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.examples.support.DeliveryBook;
import io.conveyor.examples.support.DeliveryBook.Outstanding;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.LoopExecutors;
import io.conveyor.examples.support.LoopWakeup;
import io.conveyor.examples.support.Pacer;
import io.conveyor.examples.support.RecordGenerator;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source's client of {@code SidecarDataPlane.PushRecords}: opens the stream with PushInit, waits
 * for PushReady, then pushes numbered records in batches, never more batches unacknowledged than
 * the sidecar granted credits for, and only while the stream is ready (transport flow control).
 *
 * <p><b>Delivery.</b> Every batch is kept until its ack. Per-record outcomes follow {@link
 * DeliveryBook}: DELIVERED, FILTERED and DEAD_LETTERED are final, FAILED + REJECTED is counted
 * failed, FAILED + RETRYABLE is re-sent in a later batch after a backoff. When the stream ends for
 * any reason (UNAVAILABLE, FAILED_PRECONDITION because the sidecar has no assignment yet,
 * CANCELLED, an ack not received within {@code ackTimeout}, no PushReady within {@code
 * initTimeout}), every batch in flight is re-queued whole and re-sent on a new stream, opened after
 * a backoff with jitter. Errors re-connecting cannot fix (see {@link PushFailedException}) stop the
 * pusher. A record whose ack never comes back may therefore reach the sink twice; that is the
 * at-least-once contract.
 *
 * <p><b>Threads.</b> All state is confined to one loop thread owned by the pusher; gRPC callbacks
 * and timers only post tasks to it. This keeps the protocol logic sequential and means a server
 * that answers synchronously (in-process, direct executor) never re-enters it.
 *
 * <p>The channel is the caller's: the pusher never shuts it down.
 */
public final class RecordPusher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RecordPusher.class);

  /** Period of the housekeeping tick: timeouts and due re-sends. */
  private static final long TICK_MILLIS = 20;

  /** Status codes after which reconnecting is pointless. */
  private static final Set<Status.Code> FATAL =
      EnumSet.of(
          Status.Code.INVALID_ARGUMENT,
          Status.Code.RESOURCE_EXHAUSTED,
          Status.Code.UNIMPLEMENTED,
          Status.Code.UNAUTHENTICATED,
          Status.Code.PERMISSION_DENIED);

  private record InFlight(List<Outstanding> records, long sentNanos, long bytes) {}

  /**
   * Room kept in a message for what is not a record: the PushRequest and RecordBatch envelopes
   * (tags and length prefixes, at most 12 bytes) and the batch id.
   */
  private static final int ENVELOPE_BYTES = 16;

  private final SidecarDataPlaneGrpc.SidecarDataPlaneStub stub;
  private final PusherSettings settings;
  private final DeliveryStats stats = new DeliveryStats();
  private final DeliveryBook book;
  private final Pacer pacer;
  private final RandomGenerator random;
  private final ScheduledExecutorService loop;
  private final CountDownLatch done = new CountDownLatch(1);
  private final String batchIdPrefix;

  // Loop-confined state.
  private final LinkedHashMap<String, InFlight> inFlight = new LinkedHashMap<>();
  private PushStream current;
  private int reconnectAttempt;
  private long batchCounter;
  private int batchSize;

  /** Halved each time the sidecar refuses a batch as too large (RESOURCE_EXHAUSTED). */
  private int batchSizeCap = Integer.MAX_VALUE;

  private boolean started;
  private boolean closed;
  private final LoopWakeup wake;
  private volatile String pipeline = "";

  // Published to other threads.
  private volatile boolean finished;
  private volatile Status fatal;

  public RecordPusher(Channel channel, PusherSettings settings) {
    this(channel, settings, Clock.systemUTC(), new SplittableRandom());
  }

  /**
   * @param clock stamps the records' event time
   * @param random jitter of the backoffs
   */
  public RecordPusher(
      Channel channel, PusherSettings settings, Clock clock, RandomGenerator random) {
    this.stub = SidecarDataPlaneGrpc.newStub(channel);
    this.settings = settings;
    var workload = settings.workload();
    RecordGenerator generator =
        new RecordGenerator(
            workload.sourceId(),
            workload.partition(),
            workload.recordBytes(),
            workload.seed(),
            clock);
    this.book = new DeliveryBook(generator, workload, stats, random);
    this.pacer = new Pacer(workload.rate());
    this.random = random;
    this.batchSize = workload.batchSize();
    this.batchIdPrefix =
        workload.sourceId() + "-" + Long.toHexString(random.nextLong() & 0xFFFFFFL) + "-";
    this.loop = LoopExecutors.newLoop("record-pusher-" + workload.sourceId());
    this.wake = new LoopWakeup(loop, () -> run(this::pump));
  }

  /** Opens the stream and starts pushing; returns at once. */
  public RecordPusher start() {
    post(
        () -> {
          if (started || closed) {
            return;
          }
          started = true;
          stats.started(System.nanoTime());
          if (book.complete()) {
            finish();
            return;
          }
          LoopExecutors.scheduleUnlessStopped(
              () ->
                  loop.scheduleWithFixedDelay(
                      () -> run(this::tick), TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS));
          connect();
        });
    return this;
  }

  /**
   * Waits until every produced record has a final outcome.
   *
   * @return true when complete, false when the timeout passed (or the pusher was closed) first
   * @throws PushFailedException when the pusher gave up
   */
  public boolean awaitCompletion(Duration timeout) throws InterruptedException {
    done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    Status failure = fatal;
    if (failure != null) {
      throw new PushFailedException(failure);
    }
    return finished;
  }

  public boolean isComplete() {
    return finished;
  }

  /** The status that stopped the pusher, if it gave up. */
  public Status failure() {
    return fatal;
  }

  /** Live counters and the batch latency histogram. */
  public DeliveryStats stats() {
    return stats;
  }

  public DeliveryStats.Snapshot snapshot() {
    return stats.snapshot(System.nanoTime());
  }

  /** The pipeline the sidecar said the stream feeds (empty until the first PushReady). */
  public String pipeline() {
    return pipeline;
  }

  /** Cancels the stream (batches in flight stay unacknowledged) and stops the loop thread. */
  @Override
  public void close() {
    LoopExecutors.stop(
        loop,
        () -> {
          closed = true;
          PushStream stream = current;
          current = null;
          if (stream != null) {
            // Also after finishing: the half-closed call must not outlive the pusher.
            stream.requests.cancel("record pusher closed", null);
          }
          done.countDown();
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread

  private void connect() {
    if (closed || finished || fatal != null) {
      return;
    }
    PushStream stream = new PushStream(System.nanoTime());
    current = stream;
    stub.pushRecords(stream);
    stream.requests.onNext(
        PushRequest.newBuilder()
            .setInit(
                PushInit.newBuilder()
                    .setPipeline(settings.pipeline())
                    .setSourceName(settings.sourceName())
                    .setSourceInstance(settings.sourceInstance()))
            .build());
  }

  private void onResponse(PushStream stream, PushResponse response) {
    if (stream != current) {
      return;
    }
    long now = System.nanoTime();
    switch (response.getKindCase()) {
      case READY -> onReady(stream, response.getReady(), now);
      case ACK -> {
        if (!stream.ready) {
          abandon(
              stream, Status.INTERNAL.withDescription("the sidecar sent an ack before PushReady"));
          return;
        }
        onAck(stream, response.getAck(), now);
      }
      case CREDIT -> {
        stream.credits += response.getCredit().getCredits();
        stream.lastProgressNanos = now;
        stats.creditGrant();
        pump();
      }
      case BACKPRESSURE -> {
        boolean active = response.getBackpressure().getActive();
        if (active && !stream.backpressured) {
          stats.backpressure();
          log.debug(
              "sidecar backpressure: {} of {} bytes in flight",
              response.getBackpressure().getInFlightBytes(),
              response.getBackpressure().getLimitBytes());
        }
        stream.backpressured = active;
        stream.lastProgressNanos = now;
      }
      case KIND_NOT_SET -> log.debug("ignoring an empty PushResponse");
    }
  }

  private void onReady(PushStream stream, PushReady ready, long now) {
    if (stream.ready) {
      log.debug("ignoring a second PushReady");
      return;
    }
    stream.ready = true;
    stream.credits = ready.getCredits();
    stream.maxMessageBytes = ready.getMaxMessageBytes();
    stream.lastProgressNanos = now;
    pipeline = ready.getPipeline();
    batchSize = settings.workload().batchSize();
    if (ready.getMaxBatchSize() > 0 && ready.getMaxBatchSize() < batchSize) {
      batchSize = ready.getMaxBatchSize();
    }
    batchSize = Math.min(batchSize, batchSizeCap);
    log.info(
        "pushing into pipeline {}: {} credits, batches of {} records and at most {} bytes, {} records"
            + " waiting to be re-sent",
        ready.getPipeline(),
        ready.getCredits(),
        batchSize,
        stream.maxMessageBytes > 0 ? stream.maxMessageBytes : "any",
        book.waitingForResend());
    pump();
  }

  private void onAck(PushStream stream, BatchAck ack, long now) {
    stream.credits += ack.getCredits();
    stream.lastProgressNanos = now;
    InFlight batch = inFlight.remove(ack.getBatchId());
    if (batch == null) {
      stats.unknownAck();
      log.debug("ack for unknown batch {}", ack.getBatchId());
    } else {
      stats.batchAnswered(now - batch.sentNanos(), inFlight.size());
      book.onResult(batch.records(), ack.getResult(), now);
      reconnectAttempt = 0;
    }
    pump();
  }

  /** Sends batches while credits, the local cap, transport readiness and the pace allow. */
  private void pump() {
    PushStream stream = current;
    if (closed || finished || fatal != null || stream == null || !stream.ready) {
      return;
    }
    long now = System.nanoTime();
    while (stream.credits > 0
        && inFlight.size() < settings.maxInFlightBatches()
        && stream.requests.isReady()) {
      long wait = pacer.waitNanos(now);
      if (wait > 0) {
        wake.at(now + wait, now);
        break;
      }
      String batchId = batchIdPrefix + (batchCounter + 1);
      List<Outstanding> records =
          book.nextBatch(now, batchSize, recordBytesBudget(stream, batchId));
      if (records.isEmpty()) {
        long due = book.nextDueNanos();
        if (due != Long.MAX_VALUE) {
          wake.at(due, now);
        }
        break;
      }
      batchCounter++;
      RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId(batchId);
      for (Outstanding o : records) {
        batch.addRecords(o.record());
      }
      PushRequest request = PushRequest.newBuilder().setBatch(batch).build();
      inFlight.put(batchId, new InFlight(records, now, request.getSerializedSize()));
      stream.credits--;
      pacer.sent(now, records.size());
      stats.batchSent(inFlight.size());
      stream.requests.onNext(request);
      now = System.nanoTime();
    }
    if (book.complete()) {
      finish();
    }
  }

  /**
   * Bytes of records a batch may carry so that the message stays within the largest one the sidecar
   * said it accepts (PushReady.max_message_bytes). Over it, the sidecar refuses the batch with
   * RESOURCE_EXHAUSTED — or, past the transport's own limit, the transport resets the stream
   * (CANCELLED) — so batches are cut to fit before they are sent.
   */
  private static long recordBytesBudget(PushStream stream, String batchId) {
    if (stream.maxMessageBytes <= 0) {
      return Long.MAX_VALUE; // the sidecar named no limit
    }
    return Math.max(1, stream.maxMessageBytes - ENVELOPE_BYTES - batchId.length());
  }

  private void tick() {
    PushStream stream = current;
    if (stream == null || closed || finished) {
      return;
    }
    long now = System.nanoTime();
    long ackTimeout = settings.ackTimeout().toNanos();
    if (!stream.ready) {
      if (now - stream.openedNanos > settings.initTimeout().toNanos()) {
        abandon(
            stream,
            Status.DEADLINE_EXCEEDED.withDescription(
                "no PushReady within " + settings.initTimeout().toMillis() + " ms"));
      }
      return;
    }
    Iterator<Map.Entry<String, InFlight>> oldest = inFlight.entrySet().iterator();
    if (oldest.hasNext()) {
      Map.Entry<String, InFlight> first = oldest.next();
      if (now - first.getValue().sentNanos() > ackTimeout) {
        stats.ackTimeout();
        abandon(
            stream,
            Status.DEADLINE_EXCEEDED.withDescription(
                "batch "
                    + first.getKey()
                    + " not acknowledged within "
                    + settings.ackTimeout().toMillis()
                    + " ms"));
        return;
      }
    } else if (stream.credits <= 0 && now - stream.lastProgressNanos > ackTimeout) {
      abandon(
          stream,
          Status.DEADLINE_EXCEEDED.withDescription(
              "no credits for " + settings.ackTimeout().toMillis() + " ms with nothing in flight"));
      return;
    }
    pump();
  }

  /** Ends a stream from this side, then handles it as broken. */
  private void abandon(PushStream stream, Status status) {
    stream.requests.cancel(status.getDescription(), null);
    onBroken(stream, status);
  }

  private void onBroken(PushStream stream, Status status) {
    if (stream != current) {
      return;
    }
    current = null;
    long now = System.nanoTime();
    int lost = inFlight.size();
    int largestLost = 0;
    InFlight oversize = null;
    if (lost > 0) {
      for (InFlight batch : inFlight.values()) {
        largestLost = Math.max(largestLost, batch.records().size());
        if (stream.maxMessageBytes > 0 && batch.bytes() > stream.maxMessageBytes) {
          oversize = batch;
        }
        book.onLost(batch.records(), now);
      }
      inFlight.clear();
      stats.batchesLost(lost);
    }
    if (closed || finished) {
      return;
    }
    if (book.complete()) {
      // Everything still owed was exhausted by onLost.
      finish();
      return;
    }
    if (oversize != null && oversize.records().size() == 1 && refusedAsTooLarge(status)) {
      // Batches are cut to the sidecar's limit, so only a record larger than it gets here: no
      // smaller batch can carry it, and sending it again would loop for ever.
      giveUp(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "a single record of "
                  + oversize.bytes()
                  + " bytes is over the sidecar's limit of "
                  + stream.maxMessageBytes
                  + " bytes per message (the stream ended with "
                  + status.getCode()
                  + ")"));
      return;
    }
    boolean tooLarge = status.getCode() == Status.Code.RESOURCE_EXHAUSTED && largestLost > 1;
    if (tooLarge) {
      // Records are never dropped for their batch's size: send them again in smaller batches.
      // The refused batch is not known (the stream only ended), so halve the largest in flight;
      // the cap holds for the rest of the run, as record sizes are not expected to shrink.
      batchSizeCap = largestLost / 2;
      log.warn(
          "the sidecar refused a batch of {} records as too large ({}); sending batches of at most {}",
          largestLost,
          status.getDescription(),
          batchSizeCap);
    } else if (FATAL.contains(status.getCode())) {
      giveUp(status);
      return;
    }
    stats.reconnect();
    Duration delay = settings.reconnectBackoff().delay(reconnectAttempt++, random);
    if (lost > 0) {
      log.warn(
          "push stream ended ({}: {}) with {} batches unacknowledged; re-sending them after reconnecting in {} ms",
          status.getCode(),
          status.getDescription(),
          lost,
          delay.toMillis());
    } else {
      log.info(
          "push stream ended ({}: {}); reconnecting in {} ms",
          status.getCode(),
          status.getDescription(),
          delay.toMillis());
    }
    LoopExecutors.scheduleUnlessStopped(
        () -> loop.schedule(() -> run(this::connect), delay.toNanos(), TimeUnit.NANOSECONDS));
  }

  /**
   * Whether the stream's end says a batch was too large: RESOURCE_EXHAUSTED from the sidecar, or
   * CANCELLED, which is how grpc-java's transport ends a bidi stream whose later message is over
   * its limit (grpc/grpc-java#11245) and what an oversize batch in flight explains.
   */
  private static boolean refusedAsTooLarge(Status status) {
    return status.getCode() == Status.Code.RESOURCE_EXHAUSTED
        || status.getCode() == Status.Code.CANCELLED;
  }

  private void giveUp(Status status) {
    log.error(
        "the sidecar refused the push stream ({}: {}); giving up",
        status.getCode(),
        status.getDescription());
    fatal = status;
    done.countDown();
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    stats.completed(System.nanoTime());
    PushStream stream = current;
    if (stream != null) {
      stream.requests.onCompleted();
    }
    DeliveryStats.Snapshot s = snapshot();
    log.info("all {} records have an outcome: {}", s.produced(), s.line());
    done.countDown();
  }

  /** Runs a loop task; an unexpected exception stops the pusher instead of vanishing. */
  private void run(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      if (fatal == null && !finished) {
        log.error("record pusher failed", e);
        fatal = Status.INTERNAL.withDescription("record pusher failed: " + e).withCause(e);
        PushStream stream = current;
        current = null;
        if (stream != null) {
          stream.requests.cancel("record pusher failed", e);
        }
        done.countDown();
      }
    }
  }

  /** Schedules on the loop; a loop shutting down (close) drops the task. */
  private void post(Runnable task) {
    try {
      loop.execute(() -> run(task));
    } catch (RejectedExecutionException closedAlready) {
      // The pusher is closed; late callbacks of the cancelled stream are dropped.
    }
  }

  /** One PushRecords call. Callbacks arrive on gRPC threads and are posted to the loop. */
  private final class PushStream implements ClientResponseObserver<PushRequest, PushResponse> {
    private final long openedNanos;
    private ClientCallStreamObserver<PushRequest> requests;
    private boolean ready;
    private int credits;
    private long maxMessageBytes;
    private boolean backpressured;
    private long lastProgressNanos;

    PushStream(long openedNanos) {
      this.openedNanos = openedNanos;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PushRequest> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(
          () ->
              post(
                  () -> {
                    if (current == this) {
                      pump();
                    }
                  }));
    }

    @Override
    public void onNext(PushResponse response) {
      post(() -> onResponse(this, response));
    }

    @Override
    public void onError(Throwable t) {
      post(() -> onBroken(this, Status.fromThrowable(t)));
    }

    @Override
    public void onCompleted() {
      post(
          () -> onBroken(this, Status.UNAVAILABLE.withDescription("the sidecar ended the stream")));
    }
  }
}

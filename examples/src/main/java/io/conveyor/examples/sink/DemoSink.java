package io.conveyor.examples.sink;

import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.FaultInjector;
import io.conveyor.examples.support.Replies;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo sink, a {@code conveyor.etl.v1.SinkService}: "writes" a record by noting its sequence
 * number in a {@link SequenceLedger}, which counts distinct and duplicate sequences per (source id,
 * partition) so that delivered and lost records are counted here, from what actually arrived.
 * Answers OK per record, except for injected faults (see {@link
 * io.conveyor.examples.support.FaultSettings}); a record answered FAILED is not counted as
 * received.
 */
public final class DemoSink extends SinkServiceGrpc.SinkServiceImplBase {

  public static final String DEFAULT_NAME = "demo-sink";
  private static final long FAULT_SALT = 0x73696E6B73696E6BL;

  private final SinkSettings settings;
  private final ServiceDescriptor descriptor;
  private final FaultInjector faults;
  private final SequenceLedger ledger = new SequenceLedger();
  private final LongAdder batches = new LongAdder();
  private final LongAdder writes = new LongAdder();
  private final LongAdder unidentified = new LongAdder();
  private final AtomicLong firstWriteMillis = new AtomicLong();
  private final AtomicLong lastWriteMillis = new AtomicLong();

  public DemoSink(SinkSettings settings) {
    this.settings = settings;
    this.descriptor =
        Describes.descriptor(
            settings.name(), ServiceType.SERVICE_TYPE_SINK, settings.maxBatchSize());
    this.faults = new FaultInjector(settings.faults(), FAULT_SALT);
  }

  @Override
  public void describe(
      DescribeRequest request, StreamObserver<ServiceDescriptor> responseObserver) {
    responseObserver.onNext(descriptor);
    responseObserver.onCompleted();
  }

  @Override
  public void writeBatch(
      WriteBatchRequest request, StreamObserver<WriteBatchResponse> responseObserver) {
    int size = request.getBatch().getRecordsCount();
    if (size > settings.maxBatchSize()) {
      responseObserver.onError(
          Status.INVALID_ARGUMENT
              .withDescription(
                  "batch of " + size + " records exceeds max_batch_size " + settings.maxBatchSize())
              .asRuntimeException());
      return;
    }
    WriteBatchResponse response = write(request);
    Replies.reply(responseObserver, response, settings.faults().delay());
  }

  /** The pure part: notes every record and answers one result per record. */
  WriteBatchResponse write(WriteBatchRequest request) {
    WriteBatchResponse.Builder response = WriteBatchResponse.newBuilder();
    SequenceLedger.Partition partition = null;
    long written = 0;
    for (Record record : request.getBatch().getRecordsList()) {
      SinkResult.Builder result = response.addResultsBuilder();
      if (!record.hasId()) {
        unidentified.increment();
        written++;
        result.setStatus(SinkResult.Status.STATUS_OK);
        continue;
      }
      RecordId id = record.getId();
      switch (faults.judge(id)) {
        case FAIL_RETRYABLE -> {
          result
              .setStatus(SinkResult.Status.STATUS_FAILED)
              .setRetryable(true)
              .setError(settings.name() + ": injected transient failure");
          continue;
        }
        case REJECT -> {
          result
              .setStatus(SinkResult.Status.STATUS_FAILED)
              .setRetryable(false)
              .setError(settings.name() + ": injected rejection");
          continue;
        }
        case PASS -> {}
      }
      if (partition == null
          || partition.key().partition() != id.getPartition()
          || !partition.key().sourceId().equals(id.getSourceId())) {
        partition = ledger.partition(id.getSourceId(), id.getPartition());
      }
      partition.add(id.getSequence());
      written++;
      result.setStatus(SinkResult.Status.STATUS_OK);
    }
    batches.increment();
    writes.add(written);
    long now = System.currentTimeMillis();
    firstWriteMillis.compareAndSet(0, now);
    lastWriteMillis.set(now);
    return response.build();
  }

  /** Forgets every count (between benchmark rounds). */
  public void reset() {
    ledger.reset();
    batches.reset();
    writes.reset();
    unidentified.reset();
    firstWriteMillis.set(0);
    lastWriteMillis.set(0);
  }

  public SinkSettings settings() {
    return settings;
  }

  public SequenceLedger ledger() {
    return ledger;
  }

  public FaultInjector faults() {
    return faults;
  }

  /** Batches written. */
  public long batches() {
    return batches.sum();
  }

  /** Records answered OK, duplicates included. */
  public long writes() {
    return writes.sum();
  }

  /** Records without a RecordId (answered OK, not counted by sequence). */
  public long unidentified() {
    return unidentified.sum();
  }

  /** Wall-clock time of the first and the latest write, epoch millis; 0 before any. */
  public long firstWriteMillis() {
    return firstWriteMillis.get();
  }

  public long lastWriteMillis() {
    return lastWriteMillis.get();
  }
}

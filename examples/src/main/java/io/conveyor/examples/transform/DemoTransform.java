package io.conveyor.examples.transform;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ProcessBatchRequest;
import io.conveyor.etl.v1.ProcessBatchResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.FaultInjector;
import io.conveyor.examples.support.Replies;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo transform, a {@code conveyor.etl.v1.TransformService}: every input record gives one
 * output record with the same id and its payload's ASCII letters upper-cased, except that records
 * selected by {@link #isFiltered(long, int)} are FILTERED. One result per input, always.
 *
 * <p>Fault injection (see {@link io.conveyor.examples.support.FaultSettings}): a deterministic
 * fraction of records fails retryably for its first attempts, another is rejected, and every answer
 * can be delayed (without holding a thread).
 */
public final class DemoTransform extends TransformServiceGrpc.TransformServiceImplBase {

  public static final String DEFAULT_NAME = "demo-transform";

  /** One record in ten is filtered by default: sequences 9, 19, 29, ... */
  public static final int DEFAULT_FILTER_PERIOD = 10;

  /** Salt of the fault selection, so the transform and the sink fail different records. */
  private static final long FAULT_SALT = 0x7472616E73666F72L;

  private final TransformSettings settings;
  private final ServiceDescriptor descriptor;
  private final FaultInjector faults;
  private final LongAdder batches = new LongAdder();
  private final LongAdder records = new LongAdder();
  private final LongAdder filtered = new LongAdder();

  public DemoTransform(TransformSettings settings) {
    this.settings = settings;
    this.descriptor =
        Describes.descriptor(
            settings.name(), ServiceType.SERVICE_TYPE_TRANSFORM, settings.maxBatchSize());
    this.faults = new FaultInjector(settings.faults(), FAULT_SALT);
  }

  /** The demo's filter rule with the default period: {@code sequence % 10 == 9}. */
  public static boolean isFiltered(long sequence) {
    return isFiltered(sequence, DEFAULT_FILTER_PERIOD);
  }

  /** The demo's filter rule: {@code sequence % period == period - 1}; period 0 filters nothing. */
  public static boolean isFiltered(long sequence, int period) {
    return period > 0 && Math.floorMod(sequence, (long) period) == period - 1;
  }

  /** How many sequences in [0, n) the rule filters. */
  public static long filteredBelow(long n, int period) {
    return period > 0 && n > 0 ? n / period : 0;
  }

  /** The transformation: ASCII lowercase letters upper-cased, every other byte unchanged. */
  public static ByteString transformPayload(ByteString payload) {
    byte[] bytes = payload.toByteArray();
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b >= 'a' && b <= 'z') {
        bytes[i] = (byte) (b - 32);
      }
    }
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  @Override
  public void describe(
      DescribeRequest request, StreamObserver<ServiceDescriptor> responseObserver) {
    responseObserver.onNext(descriptor);
    responseObserver.onCompleted();
  }

  @Override
  public void processBatch(
      ProcessBatchRequest request, StreamObserver<ProcessBatchResponse> responseObserver) {
    int size = request.getBatch().getRecordsCount();
    if (size > settings.maxBatchSize()) {
      responseObserver.onError(
          Status.INVALID_ARGUMENT
              .withDescription(
                  "batch of " + size + " records exceeds max_batch_size " + settings.maxBatchSize())
              .asRuntimeException());
      return;
    }
    ProcessBatchResponse response = process(request);
    batches.increment();
    records.add(size);
    Replies.reply(responseObserver, response, settings.faults().delay());
  }

  /** The pure part: one result per input record. */
  ProcessBatchResponse process(ProcessBatchRequest request) {
    ProcessBatchResponse.Builder response = ProcessBatchResponse.newBuilder();
    int period = settings.filterPeriod();
    for (Record record : request.getBatch().getRecordsList()) {
      TransformResult.Builder result = response.addResultsBuilder();
      switch (faults.judge(record.getId())) {
        case FAIL_RETRYABLE -> {
          result
              .setStatus(TransformResult.Status.STATUS_FAILED)
              .setRetryable(true)
              .setError(settings.name() + ": injected transient failure");
          continue;
        }
        case REJECT -> {
          result
              .setStatus(TransformResult.Status.STATUS_FAILED)
              .setRetryable(false)
              .setError(settings.name() + ": injected rejection");
          continue;
        }
        case PASS -> {}
      }
      if (isFiltered(record.getId().getSequence(), period)) {
        result.setStatus(TransformResult.Status.STATUS_FILTERED);
        filtered.increment();
      } else {
        result
            .setStatus(TransformResult.Status.STATUS_OK)
            .addOutputs(record.toBuilder().setPayload(transformPayload(record.getPayload())));
      }
    }
    return response.build();
  }

  public TransformSettings settings() {
    return settings;
  }

  public long batches() {
    return batches.sum();
  }

  public long records() {
    return records.sum();
  }

  public long filtered() {
    return filtered.sum();
  }

  public FaultInjector faults() {
    return faults;
  }
}

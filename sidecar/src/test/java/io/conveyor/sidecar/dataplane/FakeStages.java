package io.conveyor.sidecar.dataplane;

import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ProcessBatchRequest;
import io.conveyor.etl.v1.ProcessBatchResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkResult;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.etl.v1.WriteBatchRequest;
import io.conveyor.etl.v1.WriteBatchResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/** User services for the data plane tests: real gRPC services with scriptable behaviour. */
final class FakeStages {

  private FakeStages() {}

  /** A transform whose result per record is a function of the record and its attempt number. */
  static final class Transform extends TransformServiceGrpc.TransformServiceImplBase {
    final String name;
    final Attempts attempts = new Attempts();
    final AtomicInteger calls = new AtomicInteger();
    volatile BiFunction<Record, Integer, TransformResult> behaviour;

    Transform(String name, BiFunction<Record, Integer, TransformResult> behaviour) {
      this.name = name;
      this.behaviour = behaviour;
    }

    /** Upper-cases nothing, just passes every record on with a marker in its metadata. */
    static Transform passThrough(String name) {
      return new Transform(
          name, (record, attempt) -> ok(record.toBuilder().putMetadata("via", name).build()));
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
      responses.onNext(
          ServiceDescriptor.newBuilder()
              .setName(name)
              .setType(ServiceType.SERVICE_TYPE_TRANSFORM)
              .build());
      responses.onCompleted();
    }

    @Override
    public void processBatch(
        ProcessBatchRequest request, StreamObserver<ProcessBatchResponse> responses) {
      calls.incrementAndGet();
      ProcessBatchResponse.Builder response = ProcessBatchResponse.newBuilder();
      for (Record record : request.getBatch().getRecordsList()) {
        response.addResults(behaviour.apply(record, attempts.next(record)));
      }
      responses.onNext(response.build());
      responses.onCompleted();
    }
  }

  /** A sink that records what it wrote; can be held (to observe that acks wait) and scripted. */
  static final class Sink extends SinkServiceGrpc.SinkServiceImplBase {
    final String name;
    final List<Record> written = new CopyOnWriteArrayList<>();
    final Attempts attempts = new Attempts();
    final AtomicInteger calls = new AtomicInteger();
    final Semaphore gate = new Semaphore(Integer.MAX_VALUE);
    volatile BiFunction<Record, Integer, SinkResult> behaviour = (record, attempt) -> okSink();

    Sink(String name) {
      this.name = name;
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
      responses.onNext(
          ServiceDescriptor.newBuilder()
              .setName(name)
              .setType(ServiceType.SERVICE_TYPE_SINK)
              .build());
      responses.onCompleted();
    }

    @Override
    public void writeBatch(
        WriteBatchRequest request, StreamObserver<WriteBatchResponse> responses) {
      calls.incrementAndGet();
      gate.acquireUninterruptibly();
      gate.release();
      WriteBatchResponse.Builder response = WriteBatchResponse.newBuilder();
      for (Record record : request.getBatch().getRecordsList()) {
        SinkResult result = behaviour.apply(record, attempts.next(record));
        if (result.getStatus() == SinkResult.Status.STATUS_OK) {
          written.add(record);
        }
        response.addResults(result);
      }
      responses.onNext(response.build());
      responses.onCompleted();
    }

    /** Blocks every write until {@link #open()}. */
    void hold() {
      gate.drainPermits();
    }

    void open() {
      gate.release(Integer.MAX_VALUE - gate.availablePermits());
    }

    List<Long> sequences() {
      return written.stream().map(r -> r.getId().getSequence()).toList();
    }
  }

  /** Attempts per record sequence number. */
  static final class Attempts {
    private final ConcurrentHashMap<Long, AtomicInteger> bySequence = new ConcurrentHashMap<>();

    int next(Record record) {
      return bySequence
          .computeIfAbsent(record.getId().getSequence(), k -> new AtomicInteger())
          .getAndIncrement();
    }

    int of(long sequence) {
      AtomicInteger n = bySequence.get(sequence);
      return n == null ? 0 : n.get();
    }
  }

  static TransformResult ok(Record... outputs) {
    return TransformResult.newBuilder()
        .setStatus(TransformResult.Status.STATUS_OK)
        .addAllOutputs(List.of(outputs))
        .build();
  }

  static TransformResult filtered() {
    return TransformResult.newBuilder().setStatus(TransformResult.Status.STATUS_FILTERED).build();
  }

  static TransformResult failed(String error, boolean retryable) {
    return TransformResult.newBuilder()
        .setStatus(TransformResult.Status.STATUS_FAILED)
        .setError(error)
        .setRetryable(retryable)
        .build();
  }

  static SinkResult okSink() {
    return SinkResult.newBuilder().setStatus(SinkResult.Status.STATUS_OK).build();
  }

  static SinkResult failedSink(String error, boolean retryable) {
    return SinkResult.newBuilder()
        .setStatus(SinkResult.Status.STATUS_FAILED)
        .setError(error)
        .setRetryable(retryable)
        .build();
  }

  static Function<Record, Long> sequence() {
    return r -> r.getId().getSequence();
  }
}

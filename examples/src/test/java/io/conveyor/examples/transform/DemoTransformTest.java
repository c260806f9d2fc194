package io.conveyor.examples.transform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ProcessBatchRequest;
import io.conveyor.etl.v1.ProcessBatchResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.TransformResult;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.examples.support.FaultSettings;
import io.conveyor.examples.support.InProcess;
import io.conveyor.examples.support.RecordGenerator;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DemoTransformTest {

  private final RecordGenerator generator =
      new RecordGenerator("demo-source", 0, 32, 42, Clock.systemUTC());
  private final List<InProcess> servers = new ArrayList<>();

  @AfterEach
  void close() {
    servers.forEach(InProcess::close);
  }

  private TransformServiceGrpc.TransformServiceBlockingStub serve(TransformSettings settings) {
    InProcess server = InProcess.serve(new DemoTransform(settings));
    servers.add(server);
    return TransformServiceGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(Duration.ofSeconds(5));
  }

  private ProcessBatchRequest batch(long from, int count) {
    RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId("b" + from);
    for (long s = from; s < from + count; s++) {
      batch.addRecords(generator.record(s));
    }
    return ProcessBatchRequest.newBuilder()
        .setBatch(batch)
        .setPipeline("demo")
        .setStage("demo-transform")
        .build();
  }

  @Test
  void filterRuleIsEveryTenthSequence() {
    assertThat(DemoTransform.isFiltered(9)).isTrue();
    assertThat(DemoTransform.isFiltered(19)).isTrue();
    assertThat(DemoTransform.isFiltered(0)).isFalse();
    assertThat(DemoTransform.isFiltered(10)).isFalse();
    assertThat(DemoTransform.isFiltered(5, 0)).isFalse();
    assertThat(DemoTransform.isFiltered(2, 3)).isTrue();
    assertThat(DemoTransform.filteredBelow(100, 10)).isEqualTo(10);
    assertThat(DemoTransform.filteredBelow(99, 10)).isEqualTo(9);
    assertThat(DemoTransform.filteredBelow(100, 0)).isZero();
  }

  @Test
  void describesItselfAndServesHealth() {
    InProcess server = InProcess.serve(new DemoTransform(TransformSettings.defaults()));
    servers.add(server);
    ServiceDescriptor descriptor =
        TransformServiceGrpc.newBlockingStub(server.channel())
            .describe(DescribeRequest.getDefaultInstance());
    assertThat(descriptor.getName()).isEqualTo("demo-transform");
    assertThat(descriptor.getType()).isEqualTo(ServiceType.SERVICE_TYPE_TRANSFORM);
    assertThat(descriptor.getMaxBatchSize()).isEqualTo(1000);
    assertThat(
            HealthGrpc.newBlockingStub(server.channel())
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService("conveyor.etl.v1.TransformService")
                        .build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void outputsOneTransformedRecordPerInputExceptFilteredOnes() {
    ProcessBatchRequest request = batch(0, 100);
    ProcessBatchResponse response = serve(TransformSettings.defaults()).processBatch(request);

    assertThat(response.getResultsCount()).isEqualTo(100);
    for (int i = 0; i < 100; i++) {
      Record input = request.getBatch().getRecords(i);
      TransformResult result = response.getResults(i);
      if (DemoTransform.isFiltered(i)) {
        assertThat(result.getStatus()).isEqualTo(TransformResult.Status.STATUS_FILTERED);
        assertThat(result.getOutputsList()).isEmpty();
      } else {
        assertThat(result.getStatus()).isEqualTo(TransformResult.Status.STATUS_OK);
        assertThat(result.getOutputsList()).hasSize(1);
        Record output = result.getOutputs(0);
        assertThat(output.getId()).isEqualTo(input.getId());
        assertThat(output.getEventTime()).isEqualTo(input.getEventTime());
        assertThat(output.getPayload().toStringUtf8())
            .isEqualTo(input.getPayload().toStringUtf8().toUpperCase());
      }
    }
    assertThat(
            response.getResultsList().stream()
                .filter(r -> r.getStatus() == TransformResult.Status.STATUS_FILTERED))
        .hasSize(10);
  }

  @Test
  void transformUpperCasesOnlyAsciiLetters() {
    assertThat(DemoTransform.transformPayload(ByteString.copyFromUtf8("ab-Z9é")).toStringUtf8())
        .isEqualTo("AB-Z9é");
  }

  @Test
  void configurablePeriodAndEmptyBatch() {
    var stub = serve(TransformSettings.defaults().withFilterPeriod(0));
    assertThat(stub.processBatch(batch(0, 20)).getResultsList())
        .allMatch(r -> r.getStatus() == TransformResult.Status.STATUS_OK);
    assertThat(stub.processBatch(batch(0, 0)).getResultsCount()).isZero();
  }

  @Test
  void injectedFailuresAreDeterministicAndSucceedOnTheNextAttempt() {
    FaultSettings faults = FaultSettings.NONE.withFailures(0.2, 1);
    var stub = serve(TransformSettings.defaults().withFaults(faults));
    var other = serve(TransformSettings.defaults().withFaults(faults));

    ProcessBatchRequest request = batch(0, 500);
    ProcessBatchResponse first = stub.processBatch(request);
    ProcessBatchResponse sameOnAnotherInstance = other.processBatch(request);
    List<Integer> failed = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      TransformResult r = first.getResults(i);
      assertThat(r.getStatus()).isEqualTo(sameOnAnotherInstance.getResults(i).getStatus());
      if (r.getStatus() == TransformResult.Status.STATUS_FAILED) {
        assertThat(r.getRetryable()).isTrue();
        assertThat(r.getError()).contains("injected");
        failed.add(i);
      }
    }
    assertThat(failed).hasSizeBetween(60, 140);

    ProcessBatchResponse retry = stub.processBatch(request);
    assertThat(retry.getResultsList())
        .noneMatch(r -> r.getStatus() == TransformResult.Status.STATUS_FAILED);
  }

  @Test
  void rejectionsAreNotRetryable() {
    var stub = serve(TransformSettings.defaults().withFaults(FaultSettings.NONE.withRejects(1.0)));
    assertThat(stub.processBatch(batch(0, 3)).getResultsList())
        .allMatch(r -> r.getStatus() == TransformResult.Status.STATUS_FAILED && !r.getRetryable());
  }

  @Test
  void delayIsAddedPerBatchWithoutBlockingOtherCalls() {
    var stub =
        serve(
            TransformSettings.defaults()
                .withFaults(FaultSettings.NONE.withDelay(Duration.ofMillis(200))));
    long start = System.nanoTime();
    assertThat(stub.processBatch(batch(0, 5)).getResultsCount()).isEqualTo(5);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(190));
  }

  @Test
  void oversizeBatchIsInvalid() {
    var stub = serve(TransformSettings.defaults().withMaxBatchSize(10));
    assertThatThrownBy(() -> stub.processBatch(batch(0, 11)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}

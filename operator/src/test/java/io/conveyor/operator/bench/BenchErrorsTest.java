package io.conveyor.operator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class BenchErrorsTest {

  @Test
  void aRunWithoutErrorsCountsNone() {
    BenchErrors errors = new BenchErrors();
    errors.add("failed reconcile", 0, "unused");

    assertThat(errors.total()).isZero();
    assertThat(errors.summary()).isEmpty();
  }

  @Test
  void errorsAreCountedByKindWithTheFirstOfEachAsTheExample() {
    BenchErrors errors = new BenchErrors();
    errors.count(
        "heartbeat",
        new ExecutionException(Status.NOT_FOUND.withDescription("sc-1").asRuntimeException()));
    errors.count("heartbeat", Status.UNAVAILABLE.asRuntimeException());
    errors.add("failed reconcile", 3, "controller conveyor-sidecars");

    assertThat(errors.total()).isEqualTo(5);
    assertThat(errors.count("heartbeat")).isEqualTo(2);
    assertThat(errors.summary())
        .isEqualTo(
            "failed reconcile: 3 (first: controller conveyor-sidecars); heartbeat: 2 (first:"
                + " java.util.concurrent.ExecutionException: io.grpc.StatusRuntimeException:"
                + " NOT_FOUND: sc-1 <- io.grpc.StatusRuntimeException: NOT_FOUND: sc-1)");
  }
}

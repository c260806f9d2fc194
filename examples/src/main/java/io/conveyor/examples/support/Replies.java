package io.conveyor.examples.support;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Answers a unary call now, or after an injected delay without holding a thread meanwhile. */
public final class Replies {

  private Replies() {}

  public static <T> void reply(StreamObserver<T> observer, T response, Duration delay) {
    if (delay.isZero()) {
      observer.onNext(response);
      observer.onCompleted();
      return;
    }
    CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS)
        .execute(() -> late(observer, response));
  }

  private static <T> void late(StreamObserver<T> observer, T response) {
    if (observer instanceof ServerCallStreamObserver<?> call && call.isCancelled()) {
      return;
    }
    try {
      observer.onNext(response);
      observer.onCompleted();
    } catch (StatusRuntimeException cancelledMeanwhile) {
      // The caller gave up (deadline, cancel) while the answer was delayed; nobody to tell.
    }
  }
}

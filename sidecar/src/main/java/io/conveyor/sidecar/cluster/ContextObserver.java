package io.conveyor.sidecar.cluster;

import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * The observer of a unary call whose answer or error is handed to the client's synchronization
 * context: it runs there after the task in progress, never inside it and never beside another
 * callback.
 */
final class ContextObserver<T> implements StreamObserver<T> {

  private final SynchronizationContext context;
  private final Consumer<T> onAnswer;
  private final Consumer<Status> onError;

  ContextObserver(SynchronizationContext context, Consumer<T> onAnswer, Consumer<Status> onError) {
    this.context = context;
    this.onAnswer = onAnswer;
    this.onError = onError;
  }

  @Override
  public void onNext(T value) {
    context.execute(() -> onAnswer.accept(value));
  }

  @Override
  public void onError(Throwable t) {
    Status status = Status.fromThrowable(t);
    context.execute(() -> onError.accept(status));
  }

  @Override
  public void onCompleted() {}
}

package io.conveyor.sidecar.dataplane;

import io.grpc.Status;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The error taxonomy of stage calls, decided once: what a failed call means for its records and for
 * the target that failed it.
 */
final class CallErrors {

  private CallErrors() {}

  /** What to do after a call failed as a whole. */
  enum Verdict {
    /** The records themselves were refused; re-sending cannot help. */
    REJECT,
    /** The target is overloaded: try again later, elsewhere if possible, without ejecting it. */
    RETRY_OVERLOADED,
    /** The target is broken or gone: eject it and try another. */
    RETRY_EJECT
  }

  static Status status(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return Status.fromThrowable(cause);
  }

  static Verdict verdict(Status status) {
    return switch (status.getCode()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> Verdict.REJECT;
      case RESOURCE_EXHAUSTED -> Verdict.RETRY_OVERLOADED;
      default -> Verdict.RETRY_EJECT;
    };
  }

  static String describe(Status status) {
    return status.getDescription() == null
        ? status.getCode().name()
        : status.getCode() + ": " + status.getDescription();
  }
}

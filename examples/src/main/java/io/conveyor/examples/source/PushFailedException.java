package io.conveyor.examples.source;

import io.grpc.Status;

/**
 * The pusher gave up: the sidecar answered with an error that re-connecting cannot fix
 * (INVALID_ARGUMENT, RESOURCE_EXHAUSTED for an oversize message, UNIMPLEMENTED, UNAUTHENTICATED,
 * PERMISSION_DENIED), or the pusher itself failed.
 */
public final class PushFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Status status;

  public PushFailedException(Status status) {
    super(
        "pushing records failed: " + status.getCode() + ": " + status.getDescription(),
        status.getCause());
    this.status = status;
  }

  public Status status() {
    return status;
  }
}

package io.conveyor.sidecar;

/**
 * The sidecar could not start; the message says which part, on what address and the variable that
 * sets it. Whatever had started was closed before this was thrown.
 */
public final class SidecarStartException extends RuntimeException {

  public SidecarStartException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.conveyor.router.core;

/** A call named a sidecar the router does not know; the sidecar must register (again). */
public final class UnknownSidecarException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnknownSidecarException(String sidecarId) {
    super("sidecar " + sidecarId + " is not registered with this router; register again");
  }
}

package io.conveyor.examples.support;

/** A started example process: serving until closed (or, for a source, until its work is done). */
public interface RunningApp extends AutoCloseable {

  /**
   * Blocks until the app has nothing more to do: closed from elsewhere (SIGTERM), or finished on
   * its own. Returns the process exit code.
   */
  int awaitTermination() throws InterruptedException;

  /** Graceful stop: NOT_SERVING, running calls finish within a grace period, then exit. */
  @Override
  void close();
}

package io.conveyor.sidecar.dataplane;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One call of a service of this pod on some records of a chunk, and how to read its answer. {@link
 * LocalAttempts} runs the calls and their retries; the call only knows its service's protocol.
 *
 * @param <R> the service's response
 */
interface LocalCall<R> {

  /** Calls the service with the chunk's records at {@code pending}. */
  CompletableFuture<R> call(int[] pending);

  /** How many per-record results {@code response} holds (it must be one per record sent). */
  int resultCount(R response);

  /**
   * Reads the answer for {@code pending}: final outcomes into the chunk, records to try again into
   * {@code retry}. Returns the last retryable error, for the give-up message, or null.
   */
  String apply(R response, int[] pending, List<Integer> retry);
}

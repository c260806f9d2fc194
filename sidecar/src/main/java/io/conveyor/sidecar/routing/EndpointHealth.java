package io.conveyor.sidecar.routing;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Outlier ejection for remote sidecars, in the manner of Envoy's: a target that fails a call is
 * ejected for a while, longer on each consecutive failure (base doubled, up to a cap), and forgiven
 * on its first success. Also counts calls in flight per target for least-loaded picking.
 *
 * <p>From its first failed call to its next success an endpoint is in one ejection episode, however
 * many calls fail meanwhile (a dead replica fails every batch sent its way): {@link #failed} says
 * when a call started an episode and {@link #succeeded} when one ended and how many calls failed in
 * it, so that callers log an episode, not every failure.
 */
public final class EndpointHealth {

  /** Entries kept at most; healthy idle ones are dropped first when it is exceeded. */
  private static final int MAX_ENTRIES = 4096;

  private final LongSupplier nanoTime;
  private final long baseEjectionNanos;
  private final long maxEjectionNanos;
  private final Map<String, State> states = new ConcurrentHashMap<>();

  public EndpointHealth(LongSupplier nanoTime, Duration baseEjection, Duration maxEjection) {
    this.nanoTime = nanoTime;
    this.baseEjectionNanos = baseEjection.toNanos();
    this.maxEjectionNanos = maxEjection.toNanos();
  }

  /**
   * What a failed call did.
   *
   * @param duration how long the endpoint stays ejected from now
   * @param episodeStarted true when the endpoint was healthy before this call: a new episode
   * @param failedCalls calls failed in the episode so far, this one included
   */
  public record Ejection(Duration duration, boolean episodeStarted, int failedCalls) {}

  /**
   * The end of an ejection episode: the endpoint answered again.
   *
   * @param failedCalls calls that failed in the episode
   * @param lasted from the episode's first failed call to this success
   */
  public record Recovery(int failedCalls, Duration lasted) {}

  private static final class State {
    final AtomicInteger inFlight = new AtomicInteger();
    volatile int consecutiveFailures;

    /** Calls failed since the last success; 0 when healthy. Written under the state's lock. */
    volatile int episodeFailures;

    long episodeStart;

    /**
     * Ejected while {@code ejectedUntil - now > 0}. "Not ejected" is a time already reached, never
     * 0: nanoTime's origin is arbitrary and its values may be negative.
     */
    volatile long ejectedUntil;

    State(long now) {
      this.ejectedUntil = now;
    }
  }

  public void started(String endpoint) {
    state(endpoint).inFlight.incrementAndGet();
  }

  /**
   * Records a successful call, which forgives the endpoint; returns the episode it ended, if it was
   * in one.
   */
  public Optional<Recovery> succeeded(String endpoint) {
    State state = state(endpoint);
    state.inFlight.decrementAndGet();
    state.consecutiveFailures = 0;
    long now = nanoTime.getAsLong();
    state.ejectedUntil = now;
    if (state.episodeFailures == 0) {
      return Optional.empty(); // the common case, without taking the lock
    }
    synchronized (state) {
      int failedCalls = state.episodeFailures;
      if (failedCalls == 0) {
        return Optional.empty(); // another success ended the episode first
      }
      state.episodeFailures = 0;
      return Optional.of(new Recovery(failedCalls, Duration.ofNanos(now - state.episodeStart)));
    }
  }

  /**
   * Records a failed call and ejects the endpoint. The ejection grows per ejection, not per failed
   * call: the many calls that were in flight when a replica died all fail together, and that is one
   * incident.
   */
  public Ejection failed(String endpoint) {
    State state = state(endpoint);
    state.inFlight.decrementAndGet();
    long now = nanoTime.getAsLong();
    synchronized (state) {
      int failedCalls = ++state.episodeFailures;
      boolean episodeStarted = failedCalls == 1;
      if (episodeStarted) {
        state.episodeStart = now;
      }
      if (state.ejectedUntil - now > 0) {
        return new Ejection(
            Duration.ofNanos(state.ejectedUntil - now), episodeStarted, failedCalls);
      }
      int failures = ++state.consecutiveFailures;
      long ejection = Math.min(maxEjectionNanos, baseEjectionNanos << Math.min(20, failures - 1));
      state.ejectedUntil = now + ejection;
      return new Ejection(Duration.ofNanos(ejection), episodeStarted, failedCalls);
    }
  }

  /** Records a call that ended without saying anything about the endpoint's health. */
  public void finished(String endpoint) {
    state(endpoint).inFlight.decrementAndGet();
  }

  public boolean isEjected(String endpoint) {
    State state = states.get(endpoint);
    return state != null && state.ejectedUntil - nanoTime.getAsLong() > 0;
  }

  /** Nanos until the endpoint is back; 0 when it is not ejected. */
  long ejectionRemaining(String endpoint) {
    State state = states.get(endpoint);
    return state == null ? 0 : Math.max(0, state.ejectedUntil - nanoTime.getAsLong());
  }

  public int inFlight(String endpoint) {
    State state = states.get(endpoint);
    return state == null ? 0 : state.inFlight.get();
  }

  private State state(String endpoint) {
    State state = states.get(endpoint);
    if (state != null) {
      return state;
    }
    if (states.size() >= MAX_ENTRIES) {
      states.values().removeIf(s -> s.inFlight.get() == 0 && s.consecutiveFailures == 0);
    }
    return states.computeIfAbsent(endpoint, e -> new State(nanoTime.getAsLong()));
  }
}

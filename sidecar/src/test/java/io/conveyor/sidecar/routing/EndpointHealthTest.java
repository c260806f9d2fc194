package io.conveyor.sidecar.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Outlier ejection of remote sidecars, on a clock the test moves. */
class EndpointHealthTest {

  private static final String B = "sc-b.pods:9091";
  private static final String C = "sc-c.pods:9091";

  private final FakeNanoClock clock = new FakeNanoClock(1_000_000_000L);
  private final EndpointHealth health =
      new EndpointHealth(clock, Duration.ofSeconds(1), Duration.ofSeconds(30));

  @Test
  void anEndpointNeverHeardOfIsHealthyAndIdle() {
    assertThat(health.isEjected(B)).isFalse();
    assertThat(health.inFlight(B)).isZero();
    assertThat(health.ejectionRemaining(B)).isZero();
  }

  @Test
  void aFailureEjectsForTheBaseTimeThenTheEndpointIsBack() {
    health.started(B);

    assertThat(health.failed(B).duration()).isEqualTo(Duration.ofSeconds(1));
    assertThat(health.isEjected(B)).isTrue();
    assertThat(health.isEjected(C)).isFalse();

    clock.advance(Duration.ofMillis(999));
    assertThat(health.isEjected(B)).isTrue();
    assertThat(health.ejectionRemaining(B)).isEqualTo(Duration.ofMillis(1).toNanos());
    clock.advance(Duration.ofMillis(1));
    assertThat(health.isEjected(B)).isFalse();
  }

  /** B fails again each time it is let back in, without a success in between. */
  private Duration failAfterEjection() {
    clock.advance(Duration.ofNanos(health.ejectionRemaining(B)));
    health.started(B);
    return health.failed(B).duration();
  }

  @Test
  void eachEjectionThatEndsInAnotherFailureDoublesUpToTheCap() {
    long[] seconds = new long[8];
    for (int i = 0; i < seconds.length; i++) {
      seconds[i] = failAfterEjection().toSeconds();
    }

    assertThat(seconds).containsExactly(1, 2, 4, 8, 16, 30, 30, 30);
    assertThat(health.ejectionRemaining(B)).isEqualTo(Duration.ofSeconds(30).toNanos());
  }

  @Test
  void callsFailingTogetherWhileEjectedAreOneIncident() {
    for (int i = 0; i < 10; i++) {
      health.started(B);
    }
    assertThat(health.failed(B).duration()).isEqualTo(Duration.ofSeconds(1));
    clock.advance(Duration.ofMillis(300));
    for (int i = 0; i < 9; i++) {
      // The other calls that were in flight when B died come back failed: no longer ejection.
      assertThat(health.failed(B).duration()).isEqualTo(Duration.ofMillis(700));
    }
    assertThat(health.inFlight(B)).isZero();
    assertThat(failAfterEjection()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void theCapHoldsHoweverLongAnEndpointKeepsFailing() {
    for (int i = 0; i < 100; i++) {
      failAfterEjection();
    }

    assertThat(failAfterEjection()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aSuccessForgivesAtOnceAndTheNextFailureStartsFromTheBaseAgain() {
    for (int i = 0; i < 4; i++) {
      failAfterEjection();
    }
    assertThat(health.isEjected(B)).isTrue();

    // A call that was already in flight when B was ejected comes back fine.
    health.started(B);
    health.succeeded(B);

    assertThat(health.isEjected(B)).isFalse();
    health.started(B);
    assertThat(health.failed(B).duration()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void anEpisodeRunsFromTheFirstFailedCallToTheNextSuccessAndCountsItsFailures() {
    health.started(B);
    EndpointHealth.Ejection first = health.failed(B);
    assertThat(first.episodeStarted()).isTrue();
    assertThat(first.failedCalls()).isEqualTo(1);

    // Calls failing while B is ejected, and after its ejection ran out, without a success between.
    health.started(B);
    assertThat(health.failed(B).episodeStarted()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    health.started(B);
    EndpointHealth.Ejection again = health.failed(B);
    assertThat(again.episodeStarted()).isFalse();
    assertThat(again.failedCalls()).isEqualTo(3);
    assertThat(again.duration()).as("a re-ejection still doubles").isEqualTo(Duration.ofSeconds(2));

    clock.advance(Duration.ofMillis(2500));
    health.started(B);
    assertThat(health.succeeded(B))
        .contains(new EndpointHealth.Recovery(3, Duration.ofMillis(3500)));

    health.started(B);
    assertThat(health.succeeded(B)).as("healthy already: no episode ended").isEmpty();
    health.started(B);
    EndpointHealth.Ejection next = health.failed(B);
    assertThat(next.episodeStarted()).isTrue();
    assertThat(next.failedCalls()).isEqualTo(1);
  }

  @Test
  void episodesArePerEndpoint() {
    health.started(B);
    health.started(C);
    assertThat(health.failed(B).episodeStarted()).isTrue();
    assertThat(health.failed(C).episodeStarted()).isTrue();
    health.started(C);
    assertThat(health.succeeded(C)).contains(new EndpointHealth.Recovery(1, Duration.ZERO));
    health.started(B);
    assertThat(health.failed(B).failedCalls()).isEqualTo(2);
  }

  @Test
  void aCallEndingWithoutAVerdictNeitherEjectsNorForgives() {
    health.started(B);
    health.failed(B);
    health.started(B);
    health.finished(B); // e.g. cancelled by the caller

    assertThat(health.isEjected(B)).isTrue();
    assertThat(failAfterEjection()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void callsInFlightAreCountedPerEndpoint() {
    health.started(B);
    health.started(B);
    health.started(B);
    health.started(C);

    assertThat(health.inFlight(B)).isEqualTo(3);
    assertThat(health.inFlight(C)).isEqualTo(1);

    health.succeeded(B);
    health.failed(B);
    health.finished(B);
    assertThat(health.inFlight(B)).isZero();
    assertThat(health.inFlight(C)).isEqualTo(1);
  }

  /** System.nanoTime's origin is arbitrary: its values may be negative, and may cross zero. */
  @ParameterizedTest
  @ValueSource(
      longs = {Long.MIN_VALUE / 2, -5_000_000_000L, -1L, 0L, Long.MAX_VALUE - 500_000_000L})
  void ejectionWorksWhereverTheNanoClockStarts(long origin) {
    FakeNanoClock anywhere = new FakeNanoClock(origin);
    EndpointHealth h = new EndpointHealth(anywhere, Duration.ofSeconds(1), Duration.ofSeconds(30));

    h.started(B);
    h.succeeded(B);
    h.started(C);
    assertThat(h.isEjected(B)).as("a healthy endpoint").isFalse();
    assertThat(h.isEjected(C)).as("an endpoint with a call in flight").isFalse();
    assertThat(h.ejectionRemaining(B)).isZero();

    h.started(B);
    h.failed(B);
    assertThat(h.isEjected(B)).isTrue();
    anywhere.advance(Duration.ofSeconds(1));
    assertThat(h.isEjected(B)).isFalse();
  }

  @Test
  void manyIdleHealthyEndpointsDoNotPushOutAnEjectedOne() {
    health.started(B);
    health.failed(B);
    for (int i = 0; i < 5_000; i++) {
      String endpoint = "10.0." + (i / 250) + "." + (i % 250) + ":9091";
      health.started(endpoint);
      health.succeeded(endpoint);
    }

    assertThat(health.isEjected(B)).isTrue();
    assertThat(failAfterEjection()).isEqualTo(Duration.ofSeconds(2));
  }
}

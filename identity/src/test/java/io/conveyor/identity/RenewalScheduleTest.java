package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class RenewalScheduleTest {

  private final MutableClock clock = new MutableClock();
  private final Instant notBefore = MutableClock.START;
  private final Instant notAfter = notBefore.plus(Duration.ofHours(24));

  /** A generator that always draws the same value, to pin the jitter to an end of its range. */
  private static RandomGenerator always(long value) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        throw new UnsupportedOperationException("only bounded draws are expected");
      }

      @Override
      public long nextLong(long origin, long bound) {
        assertThat(value).isBetween(origin, bound - 1);
        return value;
      }
    };
  }

  @Test
  void withoutJitterRenewsAtHalfLife() {
    RenewalSchedule schedule =
        RenewalSchedule.forValidity(notBefore, notAfter, clock, new SplittableRandom(1), 0);

    assertThat(schedule.renewAt()).isEqualTo(notBefore.plus(Duration.ofHours(12)));
    assertThat(schedule.isDue()).isFalse();
    assertThat(schedule.untilRenewal()).isEqualTo(Duration.ofHours(12));
    clock.advance(Duration.ofHours(12).minusMillis(1));
    assertThat(schedule.isDue()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(schedule.isDue()).isTrue();
    assertThat(schedule.untilRenewal()).isZero();
  }

  @Test
  void jitterIsBoundedToTenPercentOfTheLifetimeEitherWay() {
    long tenPercent = Duration.ofMinutes(144).toMillis();

    RenewalSchedule earliest =
        RenewalSchedule.forValidity(notBefore, notAfter, clock, always(-tenPercent));
    RenewalSchedule latest =
        RenewalSchedule.forValidity(notBefore, notAfter, clock, always(tenPercent));

    assertThat(earliest.renewAt()).isEqualTo(notBefore.plus(Duration.ofMinutes(720 - 144)));
    assertThat(latest.renewAt()).isEqualTo(notBefore.plus(Duration.ofMinutes(720 + 144)));
  }

  @Test
  void aRealGeneratorStaysInsideTheBoundAndSpreadsRenewals() {
    SplittableRandom random = new SplittableRandom(42);
    Instant lowest = Instant.MAX;
    Instant highest = Instant.MIN;
    for (int i = 0; i < 1000; i++) {
      Instant renewAt = RenewalSchedule.forValidity(notBefore, notAfter, clock, random).renewAt();
      lowest = renewAt.isBefore(lowest) ? renewAt : lowest;
      highest = renewAt.isAfter(highest) ? renewAt : highest;
    }

    assertThat(lowest).isAfterOrEqualTo(notBefore.plus(Duration.ofMinutes(576)));
    assertThat(highest).isBeforeOrEqualTo(notBefore.plus(Duration.ofMinutes(864)));
    assertThat(Duration.between(lowest, highest)).isGreaterThan(Duration.ofHours(4));
  }

  @Test
  void theJitterIsDrawnOnceSoTheAnswerDoesNotMove() {
    RenewalSchedule schedule =
        RenewalSchedule.forValidity(notBefore, notAfter, clock, new SplittableRandom(7));
    Instant first = schedule.renewAt();

    clock.advance(Duration.ofHours(3));

    assertThat(schedule.renewAt()).isEqualTo(first);
    assertThat(schedule.untilRenewal()).isEqualTo(Duration.between(clock.instant(), first));
  }

  @Test
  void expiresAfterNotAfterAndReportsTheTimeLeft() {
    RenewalSchedule schedule =
        RenewalSchedule.forValidity(notBefore, notAfter, clock, new SplittableRandom(3));

    assertThat(schedule.timeLeft()).isEqualTo(Duration.ofHours(24));
    clock.advance(Duration.ofHours(23));
    assertThat(schedule.timeLeft()).isEqualTo(Duration.ofHours(1));
    assertThat(schedule.isDue()).isTrue();
    assertThat(schedule.isExpired()).isFalse();
    clock.advance(Duration.ofHours(1));
    assertThat(schedule.isExpired()).as("notAfter itself is still valid").isFalse();
    assertThat(schedule.timeLeft()).isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(schedule.isExpired()).isTrue();
    assertThat(schedule.timeLeft()).isZero();
  }

  @Test
  void aScheduleForAnIssuedCertificateUsesItsBackdatedStart() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("conveyor.etl", clock, TestCsrs.RANDOM);
    CertificateChain chain =
        ca.issue(CertificateAuthorityTest.validated(WorkloadIdentity.of("a", "b", "c")));

    RenewalSchedule schedule =
        RenewalSchedule.forValidity(
            chain.leaf().getNotBefore().toInstant(), chain.notAfter(), clock, always(0));

    // lifetime is 24 h + the 1 min backdate; half of it from a minute back
    assertThat(schedule.renewAt()).isEqualTo(clock.instant().plus(Duration.ofSeconds(43_170)));
  }

  @Test
  void refusesAnEmptyValidityOrAJitterOutOfBounds() {
    SplittableRandom random = new SplittableRandom(1);
    assertThatThrownBy(() -> RenewalSchedule.forValidity(notAfter, notBefore, clock, random))
        .hasMessageContaining("certificate validity is empty");
    assertThatThrownBy(() -> RenewalSchedule.forValidity(notBefore, notAfter, clock, random, 0.5))
        .hasMessageContaining("renewal jitter must be in [0, 0.5)");
    assertThatThrownBy(
            () -> RenewalSchedule.forValidity(notBefore, notAfter, clock, random, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

package io.conveyor.operator.status;

import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.identity.IssuedCertificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code CertificateValid} condition of a ConveyorSidecar and the certificate fields next to
 * it, from the last certificate the CA issued to the pod. Pure: the time is given.
 *
 * <ul>
 *   <li>{@code True/Issued} while the certificate is valid and has more than a quarter of its
 *       lifetime left;
 *   <li>{@code True/RenewalOverdue} when less than a quarter is left: the sidecar renews at
 *       half-life, so renewal has been failing for a while; this is the warning before expiry;
 *   <li>{@code False/Expired} from its {@code notAfter} on;
 *   <li>{@code False/NotEnrolled} while no certificate was issued to the pod.
 * </ul>
 *
 * <p>When the CA of this leader term issued nothing to the pod yet (a new leader), the certificate
 * the previous status recorded for the same pod UID stands: the sidecar renews only at half-life,
 * and the status is the record that survives a fail-over.
 *
 * <p>The condition does not count towards {@code Ready}: mutual TLS is not enforced yet.
 */
public final class CertificateCondition {

  public static final String CERTIFICATE_VALID = "CertificateValid";

  private static final Duration MIN_RECHECK = Duration.ofSeconds(1);

  private CertificateCondition() {}

  /**
   * Sets the certificate fields of {@code next} and appends its condition.
   *
   * @param previous the status the object had, or null
   * @return when the condition changes next by itself (renewal overdue, expiry), if it does
   */
  public static Optional<Duration> apply(
      ConveyorSidecarStatus next,
      ConveyorSidecarStatus previous,
      Optional<IssuedCertificate> lastIssued,
      long generation,
      Instant now) {
    Optional<IssuedCertificate> certificate =
        lastIssued.or(() -> recordedIn(previous, next.getPodUID()));
    ConditionSet conditions =
        new ConditionSet(previous == null ? null : previous.getConditions(), generation, now);
    Optional<Duration> recheck = Optional.empty();
    if (certificate.isEmpty()) {
      conditions.set(
          CERTIFICATE_VALID,
          false,
          "NotEnrolled",
          "no certificate was issued to this pod (its sidecar has not enrolled with the CA)");
    } else {
      IssuedCertificate c = certificate.get();
      next.setCertificateSerial(c.serial());
      next.setCertificateNotBefore(Timestamps.format(c.notBefore()));
      next.setCertificateExpiry(Timestamps.format(c.notAfter()));
      Instant overdueFrom = c.notAfter().minus(c.lifetime().dividedBy(4));
      if (!now.isBefore(c.notAfter())) {
        conditions.set(
            CERTIFICATE_VALID,
            false,
            "Expired",
            "certificate "
                + c.serial()
                + " expired at "
                + Timestamps.format(c.notAfter())
                + " and was not renewed");
      } else if (!now.isBefore(overdueFrom)) {
        conditions.set(
            CERTIFICATE_VALID,
            true,
            "RenewalOverdue",
            "certificate "
                + c.serial()
                + " expires at "
                + Timestamps.format(c.notAfter())
                + " and was not renewed at half-life: renewal is failing");
        recheck = Optional.of(atLeastMin(Duration.between(now, c.notAfter())));
      } else {
        conditions.set(
            CERTIFICATE_VALID,
            true,
            "Issued",
            "certificate " + c.serial() + " valid until " + Timestamps.format(c.notAfter()));
        recheck = Optional.of(atLeastMin(Duration.between(now, overdueFrom)));
      }
    }
    List<io.fabric8.kubernetes.api.model.Condition> all = new ArrayList<>(next.getConditions());
    all.removeIf(existing -> CERTIFICATE_VALID.equals(existing.getType()));
    all.add(conditions.get(CERTIFICATE_VALID));
    next.setConditions(all);
    return recheck;
  }

  /** Sooner of two optional delays. */
  public static Optional<Duration> sooner(Optional<Duration> a, Optional<Duration> b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    return Optional.of(a.get().compareTo(b.get()) <= 0 ? a.get() : b.get());
  }

  private static Optional<IssuedCertificate> recordedIn(
      ConveyorSidecarStatus previous, String podUid) {
    if (previous == null || podUid == null || !podUid.equals(previous.getPodUID())) {
      return Optional.empty();
    }
    Optional<Instant> notBefore = Timestamps.parse(previous.getCertificateNotBefore());
    Optional<Instant> notAfter = Timestamps.parse(previous.getCertificateExpiry());
    if (notBefore.isEmpty() || notAfter.isEmpty() || previous.getCertificateSerial() == null) {
      return Optional.empty();
    }
    return Optional.of(
        new IssuedCertificate(
            podUid, previous.getCertificateSerial(), notBefore.get(), notAfter.get()));
  }

  private static Duration atLeastMin(Duration d) {
    return d.compareTo(MIN_RECHECK) < 0 ? MIN_RECHECK : d;
  }
}

package io.conveyor.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.identity.IssuedCertificate;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CertificateConditionTest {

  private static final String UID = "uid-1";
  private static final Instant ISSUED = Instant.parse("2026-03-01T10:00:00Z");
  // As the CA issues it: backdated a minute, 24 h from issuance.
  private static final IssuedCertificate CERT =
      new IssuedCertificate(
          UID, "abc123", ISSUED.minusSeconds(60), ISSUED.plus(Duration.ofHours(24)));

  @Test
  void withoutACertificateThePodIsNotEnrolled() {
    ConveyorSidecarStatus next = status(UID);

    Optional<Duration> recheck =
        CertificateCondition.apply(next, null, Optional.empty(), 1, ISSUED);

    assertThat(condition(next).getStatus()).isEqualTo("False");
    assertThat(condition(next).getReason()).isEqualTo("NotEnrolled");
    assertThat(next.getCertificateExpiry()).isNull();
    assertThat(recheck).isEmpty();
  }

  @Test
  void anIssuedCertificateIsValidUntilAQuarterOfItsLifeIsLeft() {
    ConveyorSidecarStatus next = status(UID);

    Optional<Duration> recheck =
        CertificateCondition.apply(next, null, Optional.of(CERT), 1, ISSUED.plusSeconds(5));

    assertThat(condition(next).getStatus()).isEqualTo("True");
    assertThat(condition(next).getReason()).isEqualTo("Issued");
    assertThat(condition(next).getMessage())
        .isEqualTo("certificate abc123 valid until 2026-03-02T10:00:00Z");
    assertThat(next.getCertificateExpiry()).isEqualTo("2026-03-02T10:00:00Z");
    assertThat(next.getCertificateSerial()).isEqualTo("abc123");
    // A quarter of 24h01m before the end: 2026-03-02T03:59:45Z.
    Instant overdueFrom = Instant.parse("2026-03-02T03:59:45Z");
    assertThat(recheck).contains(Duration.between(ISSUED.plusSeconds(5), overdueFrom));
  }

  @Test
  void aCertificateNotRenewedWithAQuarterLeftIsOverdueButStillValid() {
    ConveyorSidecarStatus next = status(UID);
    Instant now = Instant.parse("2026-03-02T04:00:00Z");

    Optional<Duration> recheck = CertificateCondition.apply(next, null, Optional.of(CERT), 1, now);

    assertThat(condition(next).getStatus()).isEqualTo("True");
    assertThat(condition(next).getReason()).isEqualTo("RenewalOverdue");
    assertThat(condition(next).getMessage()).contains("2026-03-02T10:00:00Z");
    assertThat(recheck).contains(Duration.ofHours(6));
  }

  @Test
  void fromNotAfterOnItHasExpired() {
    ConveyorSidecarStatus next = status(UID);

    Optional<Duration> recheck =
        CertificateCondition.apply(next, null, Optional.of(CERT), 1, CERT.notAfter());

    assertThat(condition(next).getStatus()).isEqualTo("False");
    assertThat(condition(next).getReason()).isEqualTo("Expired");
    assertThat(condition(next).getMessage())
        .isEqualTo("certificate abc123 expired at 2026-03-02T10:00:00Z and was not renewed");
    assertThat(recheck).isEmpty();
  }

  @Test
  void aNewLeaderWithoutRecordsCarriesTheCertificateOfTheSamePodFromTheStatus() {
    ConveyorSidecarStatus written = status(UID);
    CertificateCondition.apply(written, null, Optional.of(CERT), 1, ISSUED);

    ConveyorSidecarStatus next = status(UID);
    CertificateCondition.apply(next, written, Optional.empty(), 1, ISSUED.plusSeconds(3600));

    assertThat(condition(next).getReason()).isEqualTo("Issued");
    assertThat(condition(next).getLastTransitionTime())
        .isEqualTo(condition(written).getLastTransitionTime());
    assertThat(StatusComparison.same(next, written)).isTrue();

    // Not for another pod of the same name.
    ConveyorSidecarStatus other = status("uid-2");
    CertificateCondition.apply(other, written, Optional.empty(), 1, ISSUED.plusSeconds(3600));
    assertThat(condition(other).getReason()).isEqualTo("NotEnrolled");
  }

  @Test
  void aRenewalReplacesTheRecordedCertificate() {
    ConveyorSidecarStatus written = status(UID);
    CertificateCondition.apply(written, null, Optional.of(CERT), 1, ISSUED);
    Instant renewed = ISSUED.plus(Duration.ofHours(12));
    IssuedCertificate next =
        new IssuedCertificate(
            UID, "def456", renewed.minusSeconds(60), renewed.plus(Duration.ofHours(24)));

    ConveyorSidecarStatus status = status(UID);
    CertificateCondition.apply(status, written, Optional.of(next), 1, renewed);

    assertThat(status.getCertificateSerial()).isEqualTo("def456");
    assertThat(status.getCertificateExpiry()).isEqualTo("2026-03-02T22:00:00Z");
    assertThat(condition(status).getReason()).isEqualTo("Issued");
  }

  private static ConveyorSidecarStatus status(String podUid) {
    ConveyorSidecarStatus status = new ConveyorSidecarStatus();
    status.setPodUID(podUid);
    return status;
  }

  private static Condition condition(ConveyorSidecarStatus status) {
    return status.getConditions().stream()
        .filter(c -> c.getType().equals(CertificateCondition.CERTIFICATE_VALID))
        .findFirst()
        .orElseThrow();
  }
}

package io.conveyor.operator.identity;

import java.time.Duration;
import java.time.Instant;

/**
 * The last certificate the CA issued to one pod.
 *
 * @param podUid the pod the enrolment token was bound to (checked against the live pod)
 * @param serial the certificate's serial number, in hex
 * @param notBefore start of its validity (backdated a minute by the CA)
 * @param notAfter end of its validity
 */
public record IssuedCertificate(String podUid, String serial, Instant notBefore, Instant notAfter) {

  public Duration lifetime() {
    return Duration.between(notBefore, notAfter);
  }
}

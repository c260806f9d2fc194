package io.conveyor.webhook.admission;

/** The HTTP request is not an AdmissionReview the webhook can answer: a 400 with this message. */
public final class BadAdmissionRequestException extends Exception {
  private static final long serialVersionUID = 1L;

  public BadAdmissionRequestException(String message) {
    super(message);
  }
}

package io.conveyor.sidecar.identity;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service account a projected ServiceAccount token is for, read from its {@code sub} claim
 * ({@code system:serviceaccount:NAMESPACE:NAME}) without verifying it: the CSR must ask for the
 * identity the CA will prove, and the CA verifies the token itself (TokenReview). A token that
 * cannot be read names nothing, and the enrolment's refusal will say why.
 */
public final class TokenServiceAccount {

  private static final Pattern SUBJECT =
      Pattern.compile("\"sub\"\\s*:\\s*\"system:serviceaccount:([a-z0-9.-]+):([a-z0-9.-]+)\"");

  private TokenServiceAccount() {}

  /** The service account's name, if the token is a JWT whose subject is a service account. */
  public static Optional<String> of(String jwt) {
    String[] parts = jwt.strip().split("\\.");
    if (parts.length != 3) {
      return Optional.empty();
    }
    String payload;
    try {
      payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    Matcher matcher = SUBJECT.matcher(payload);
    return matcher.find() ? Optional.of(matcher.group(2)) : Optional.empty();
  }
}

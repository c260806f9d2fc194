package io.conveyor.identity;

/**
 * A workload identity, or one of its parts, that is not well formed. The message names the part and
 * the rule it broke, so that it can be shown to whoever supplied the value.
 */
public final class IdentityFormatException extends IllegalArgumentException {

  public IdentityFormatException(String message) {
    super(message);
  }
}

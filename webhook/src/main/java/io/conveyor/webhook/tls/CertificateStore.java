package io.conveyor.webhook.tls;

import java.util.Objects;
import java.util.Optional;

/**
 * Where the TLS material shared by all replicas lives. Writes are optimistic: {@link #create} fails
 * when another replica created it first, {@link #replace} when it changed since it was read; the
 * caller reads again and uses what the winner wrote.
 *
 * <p>Other failures (API server unreachable, forbidden) are runtime exceptions: retried later.
 */
public interface CertificateStore {

  /**
   * What is stored, with an opaque version for {@link #replace}.
   *
   * @param material empty when the stored data cannot be read; {@code unreadable} says why
   */
  record Stored(String version, Optional<TlsMaterial> material, Optional<String> unreadable) {
    public Stored {
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(material, "material");
      Objects.requireNonNull(unreadable, "unreadable");
    }

    public static Stored of(String version, TlsMaterial material) {
      return new Stored(version, Optional.of(material), Optional.empty());
    }

    public static Stored unreadable(String version, String reason) {
      return new Stored(version, Optional.empty(), Optional.of(reason));
    }
  }

  /** Another writer got there first. */
  final class ConflictException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A short description for logs, e.g. {@code Secret conveyor-system/conveyor-webhook-tls}. */
  String describe();

  Optional<Stored> load();

  Stored create(TlsMaterial material) throws ConflictException;

  Stored replace(Stored previous, TlsMaterial material) throws ConflictException;
}

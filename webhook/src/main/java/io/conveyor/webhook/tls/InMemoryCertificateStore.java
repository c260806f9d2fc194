package io.conveyor.webhook.tls;

import java.util.Optional;

/** A store in the process's memory, for local runs and the benchmark: nothing is shared. */
public final class InMemoryCertificateStore implements CertificateStore {

  private Stored stored;
  private long version;

  @Override
  public String describe() {
    return "memory";
  }

  @Override
  public synchronized Optional<Stored> load() {
    return Optional.ofNullable(stored);
  }

  @Override
  public synchronized Stored create(TlsMaterial material) throws ConflictException {
    if (stored != null) {
      throw new ConflictException("already created", null);
    }
    stored = Stored.of(Long.toString(++version), material);
    return stored;
  }

  @Override
  public synchronized Stored replace(Stored previous, TlsMaterial material)
      throws ConflictException {
    if (stored == null || !stored.version().equals(previous.version())) {
      throw new ConflictException("changed since read", null);
    }
    stored = Stored.of(Long.toString(++version), material);
    return stored;
  }
}

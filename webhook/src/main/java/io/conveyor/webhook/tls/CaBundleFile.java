package io.conveyor.webhook.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the trust bundle to a file (atomically, only when it changed), so that a local client —
 * the benchmark, {@code curl --cacert} — can trust a webhook that keeps its TLS in memory.
 */
public final class CaBundleFile implements CaBundlePublisher {

  private final Path path;

  public CaBundleFile(Path path) {
    this.path = path.toAbsolutePath();
  }

  @Override
  public boolean publish(String bundlePem) {
    try {
      if (Files.exists(path)
          && Files.readString(path, StandardCharsets.US_ASCII).equals(bundlePem)) {
        return false;
      }
      Path parent = path.getParent();
      Files.createDirectories(parent);
      Path temporary = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
      Files.writeString(temporary, bundlePem, StandardCharsets.US_ASCII);
      Files.move(
          temporary, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the CA bundle to " + path, e);
    }
  }
}

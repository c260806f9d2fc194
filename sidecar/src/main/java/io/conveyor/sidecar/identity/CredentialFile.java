package io.conveyor.sidecar.identity;

import io.conveyor.etl.v1.IssueCertificateRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file the enrolment credential is read from, at every attempt: the kubelet rotates a projected
 * ServiceAccount token in place, and an operator may fix a wrong bootstrap token without a restart.
 */
public record CredentialFile(Path path, Kind kind) {

  /** Tokens are a few KiB at most; anything larger is not a token and is not read into memory. */
  static final long MAX_BYTES = 64 << 10;

  /** Which credential of {@code IssueCertificateRequest} the file holds. */
  public enum Kind {
    SERVICE_ACCOUNT_TOKEN,
    BOOTSTRAP_TOKEN
  }

  /**
   * Puts the file's current content (trimmed: files written by hand end with a newline) into the
   * request.
   *
   * @throws IOException when the file cannot be read, is empty or is larger than {@link #MAX_BYTES}
   */
  IssueCertificateRequest.Builder addTo(IssueCertificateRequest.Builder request)
      throws IOException {
    long size = Files.size(path);
    if (size > MAX_BYTES) {
      throw new IOException(
          path + " holds " + size + " bytes, more than the " + MAX_BYTES + " a token may have");
    }
    String token = new String(Files.readAllBytes(path), StandardCharsets.UTF_8).strip();
    if (token.isEmpty()) {
      throw new IOException(path + " is empty");
    }
    return switch (kind) {
      case SERVICE_ACCOUNT_TOKEN -> request.setServiceAccountToken(token);
      case BOOTSTRAP_TOKEN -> request.setBootstrapToken(token);
    };
  }

  @Override
  public String toString() {
    return (kind == Kind.SERVICE_ACCOUNT_TOKEN ? "ServiceAccount token " : "bootstrap token ")
        + path;
  }
}

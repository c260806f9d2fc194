package io.conveyor.identity.tls;

import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.util.Locale;

/**
 * Which TLS implementation the gRPC transport uses: BoringSSL (bundled with grpc-netty-shaded
 * through netty-tcnative) where its native library loads, else the JDK's. Both are kept selectable
 * so the benchmark can measure one against the other.
 */
public enum TlsProvider {
  /** BoringSSL through netty-tcnative, as grpc-netty-shaded ships it. */
  OPENSSL,
  /** The JDK's own TLS (SunJSSE). */
  JDK;

  /** BoringSSL when it loads on this machine, else the JDK's. */
  public static TlsProvider preferred() {
    return OpenSsl.isAvailable() ? OPENSSL : JDK;
  }

  /**
   * Parses {@code openssl}, {@code boringssl}, {@code jdk} or blank (the preferred one).
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static TlsProvider parse(String value) {
    if (value == null || value.isBlank()) {
      return preferred();
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "openssl", "boringssl" -> requireOpenSsl();
      case "jdk" -> JDK;
      default ->
          throw new IllegalArgumentException(
              "'" + value + "' is not a TLS provider: use openssl (BoringSSL) or jdk");
    };
  }

  SslProvider netty() {
    return this == OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  private static TlsProvider requireOpenSsl() {
    if (!OpenSsl.isAvailable()) {
      throw new IllegalArgumentException(
          "BoringSSL does not load on this machine: " + OpenSsl.unavailabilityCause());
    }
    return OPENSSL;
  }
}

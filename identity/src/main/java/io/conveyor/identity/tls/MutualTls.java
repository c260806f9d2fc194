package io.conveyor.identity.tls;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS contexts of Conveyor's gRPC hops: TLS 1.3 only, the live workload certificate as the key,
 * the workload trust manager as the only trust. Built once per listener or per dialled identity;
 * the certificate and the trust bundle they hold change underneath without rebuilding them.
 */
public final class MutualTls {

  private static final String TLS_1_3 = "TLSv1.3";

  private MutualTls() {}

  /**
   * A server that asks every client for a certificate.
   *
   * @param clientAuth {@link ClientAuth#REQUIRE} where every caller must be a workload (the
   *     sidecars' peer port); {@link ClientAuth#OPTIONAL} where a caller may come without one to
   *     enrol (the router's port), and the call's authorization decides
   */
  public static SslContext server(
      LiveKeyManager keys, X509TrustManager trust, ClientAuth clientAuth, TlsProvider provider) {
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forServer(keys), provider.netty())
          .trustManager(trust)
          .clientAuth(clientAuth)
          .protocols(TLS_1_3)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the server's TLS context: " + e, e);
    }
  }

  /**
   * A client that verifies the server with {@code trust} and presents {@code keys} when given (a
   * sidecar not yet enrolled dials the router's certificate service without).
   */
  public static SslContext client(
      Optional<LiveKeyManager> keys, X509TrustManager trust, TlsProvider provider) {
    try {
      SslContextBuilder builder =
          GrpcSslContexts.configure(SslContextBuilder.forClient(), provider.netty())
              .trustManager(trust)
              .protocols(TLS_1_3);
      keys.ifPresent(builder::keyManager);
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the client's TLS context: " + e, e);
    }
  }
}

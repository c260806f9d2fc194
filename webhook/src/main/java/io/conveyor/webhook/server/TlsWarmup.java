package io.conveyor.webhook.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Handshakes with the webhook's own HTTPS port (over loopback, or the address it is bound to) a
 * number of times before it reports ready, so that the TLS code is compiled before the API server's
 * first burst of connections. The certificate is verified against the trust bundle (no host name
 * check: the certificate names the Service, not localhost).
 */
public final class TlsWarmup {

  private TlsWarmup() {}

  /** Returns the number of successful exchanges; failures end the warm-up early, never fatally. */
  public static int run(
      InetSocketAddress address, List<X509Certificate> trusted, int handshakes, Duration budget) {
    SSLContext context;
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < trusted.size(); i++) {
        store.setCertificateEntry("ca-" + i, trusted.get(i));
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
    } catch (GeneralSecurityException | IOException e) {
      return 0;
    }
    long deadline = System.nanoTime() + budget.toNanos();
    int done = 0;
    byte[] request =
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    while (done < handshakes && System.nanoTime() < deadline) {
      try (SSLSocket socket =
          (SSLSocket)
              context.getSocketFactory().createSocket(address.getAddress(), address.getPort())) {
        socket.setSoTimeout(2_000);
        socket.startHandshake();
        OutputStream out = socket.getOutputStream();
        out.write(request);
        out.flush();
        InputStream in = socket.getInputStream();
        while (in.read() != -1) {
          // read the whole response; the server closes
        }
        done++;
      } catch (IOException e) {
        return done;
      }
    }
    return done;
  }
}

package io.conveyor.podtest.cluster;

import io.conveyor.webhook.tls.CertificateIssuer;
import io.conveyor.webhook.tls.PemCodec;
import io.conveyor.webhook.tls.TlsMaterial;
import io.conveyor.webhook.tls.TlsSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS in front of the mock API server, as pods reach a real one: on the bridge address, with a
 * serving certificate for that IP from the test's cluster CA (the CA pods trust through {@code
 * kube-root-ca.crt}). fabric8's mock serves plain HTTP on loopback, and its own HTTPS certificate
 * names no IP, which an in-cluster client rightly refuses. Each connection is piped byte for byte
 * to the mock server; at most {@link #MAX_CONNECTIONS} at once, further ones are closed.
 */
public final class TlsFront implements AutoCloseable {

  static final int MAX_CONNECTIONS = 16;
  private static final Logger log = LoggerFactory.getLogger(TlsFront.class);

  private final SSLServerSocket server;
  private final InetSocketAddress backend;
  private final ExecutorService connections =
      new ThreadPoolExecutor(
          0,
          2 * MAX_CONNECTIONS,
          10,
          TimeUnit.SECONDS,
          new SynchronousQueue<>(),
          r -> {
            Thread t = new Thread(r, "tls-front");
            t.setDaemon(true);
            return t;
          });
  private final Thread acceptor;
  private String clusterCaPem = "";

  private TlsFront(SSLServerSocket server, InetSocketAddress backend) {
    this.server = server;
    this.backend = backend;
    this.acceptor = new Thread(this::accept, "tls-front-accept");
    this.acceptor.setDaemon(true);
  }

  /** Listens on {@code address} (port chosen by the system) and forwards to {@code backend}. */
  public static TlsFront start(
      String address,
      X509Certificate certificate,
      X509Certificate ca,
      PrivateKey key,
      InetSocketAddress backend)
      throws IOException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("api", key, new char[0], new X509Certificate[] {certificate, ca});
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, new char[0]);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      SSLServerSocket server =
          (SSLServerSocket)
              context
                  .getServerSocketFactory()
                  .createServerSocket(0, 50, InetAddress.getByName(address));
      TlsFront front = new TlsFront(server, backend);
      front.acceptor.start();
      return front;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot set up the API server's TLS", e);
    }
  }

  /**
   * The mock API server reachable from the pods at {@code bridgeAddress} over HTTPS, its
   * certificate for that IP (and {@code kubernetes.default.svc}) signed by a new cluster CA: {@link
   * #clusterCaPem()} is what {@code kube-root-ca.crt} holds.
   */
  public static TlsFront apiServer(String bridgeAddress, MockApiServer api) throws IOException {
    TlsSettings names =
        new TlsSettings(
            TlsSettings.Store.MEMORY,
            "kube-system",
            "kube-apiserver",
            "none",
            List.of(bridgeAddress, "kubernetes.default.svc"),
            Duration.ofDays(10),
            Duration.ofDays(2),
            Duration.ofDays(1),
            Duration.ofHours(1),
            Optional.empty());
    TlsMaterial material = new CertificateIssuer(new SecureRandom()).issueAll(Instant.now(), names);
    URI master = URI.create(api.client().getConfiguration().getMasterUrl());
    TlsFront front =
        start(
            bridgeAddress,
            material.certificate(),
            material.caCertificate(),
            material.key(),
            new InetSocketAddress(master.getHost(), master.getPort()));
    front.clusterCaPem = PemCodec.certificateToPem(material.caCertificate());
    return front;
  }

  /** The CA that signed this front's certificate, in PEM; empty unless made by apiServer. */
  public String clusterCaPem() {
    return clusterCaPem;
  }

  public int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      try {
        connections.execute(() -> serve(client));
      } catch (RejectedExecutionException e) {
        log.warn("API server front: more than {} connections, one closed", MAX_CONNECTIONS);
        closeQuietly(client);
      }
    }
  }

  private void serve(Socket client) {
    try (client;
        Socket upstream = new Socket()) {
      upstream.connect(backend, 5_000);
      try {
        connections.execute(() -> pipe(upstream, client));
      } catch (RejectedExecutionException e) {
        return;
      }
      pipe(client, upstream);
    } catch (IOException e) {
      log.debug("API server front: connection ended: {}", e.toString());
    }
  }

  /** Copies until {@code from} ends, then ends {@code to}'s output. */
  private static void pipe(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the other side went away: close both
    } finally {
      closeQuietly(to);
      closeQuietly(from);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      log.debug("API server front: close: {}", e.toString());
    }
    connections.shutdownNow();
  }
}

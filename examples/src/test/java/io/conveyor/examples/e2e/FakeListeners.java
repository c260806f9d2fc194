package io.conveyor.examples.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Listeners that are not gRPC services, for the sidecar's discovery to skip. */
final class FakeListeners {

  private FakeListeners() {}

  /** Accepts connections and never says a word. */
  static AutoCloseable silent(int port) throws IOException {
    return serve(
        port,
        socket -> {
          // hold the connection open and silent until closed
        });
  }

  /** Accepts connections and resets them at once (RST, via SO_LINGER 0). */
  static AutoCloseable resetting(int port) throws IOException {
    return serve(
        port,
        socket -> {
          socket.setSoLinger(true, 0);
          socket.close();
        });
  }

  /** Answers every request with an HTTP/1.1 response, like any web server. */
  static AutoCloseable http1(int port) throws IOException {
    return serve(
        port,
        socket -> {
          InputStream in = socket.getInputStream();
          in.read(new byte[4096]);
          OutputStream out = socket.getOutputStream();
          out.write(
              "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
          out.flush();
          socket.close();
        });
  }

  /**
   * A real TLS server (a key pair made with the JDK's keytool), completing handshakes with whoever
   * speaks TLS to it.
   */
  static AutoCloseable tls(int port, java.nio.file.Path dir) throws Exception {
    java.nio.file.Path keystore = dir.resolve("tls-" + port + ".p12");
    java.nio.file.Files.createDirectories(dir);
    java.nio.file.Files.deleteIfExists(keystore);
    Process keytool =
        new ProcessBuilder(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-alias",
                "server",
                "-dname",
                "CN=localhost",
                "-validity",
                "1",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    if (keytool.waitFor() != 0) {
      throw new IllegalStateException(
          "keytool failed: " + new String(keytool.getInputStream().readAllBytes()));
    }
    java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
    try (InputStream in = java.nio.file.Files.newInputStream(keystore)) {
      store.load(in, "changeit".toCharArray());
    }
    javax.net.ssl.KeyManagerFactory keys =
        javax.net.ssl.KeyManagerFactory.getInstance(
            javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, "changeit".toCharArray());
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    ServerSocket server = context.getServerSocketFactory().createServerSocket();
    return serve(
        server,
        port,
        socket -> {
          try {
            ((javax.net.ssl.SSLSocket) socket).startHandshake();
          } catch (IOException e) {
            socket.close(); // a client that does not speak TLS
          }
        });
  }

  private interface Handler {
    void handle(Socket socket) throws IOException;
  }

  private static AutoCloseable serve(int port, Handler handler) throws IOException {
    return serve(new ServerSocket(), port, handler);
  }

  private static AutoCloseable serve(ServerSocket server, int port, Handler handler)
      throws IOException {
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    List<Socket> accepted = new ArrayList<>();
    Thread thread =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket socket = server.accept();
                  synchronized (accepted) {
                    accepted.add(socket);
                  }
                  handler.handle(socket);
                } catch (IOException e) {
                  // closed, or a client that went away: keep serving until closed
                }
              }
            },
            "fake-listener-" + port);
    thread.setDaemon(true);
    thread.start();
    return () -> {
      server.close();
      synchronized (accepted) {
        for (Socket socket : accepted) {
          socket.close();
        }
      }
    };
  }
}

package io.conveyor.sidecar.discovery;

import com.sun.net.httpserver.HttpServer;
import io.conveyor.common.grpc.GrpcServers;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Real listeners on given loopback ports — gRPC servers and the hostile kinds a scan meets — all
 * closed together.
 */
final class Listeners implements AutoCloseable {

  /** How a gRPC test server exposes itself besides its services. */
  enum Extras {
    /** Health and reflection v1 + v1alpha, as GrpcServers.addStandardServices gives them. */
    STANDARD,
    /** Health and the old v1alpha reflection only. */
    V1ALPHA_REFLECTION_ONLY,
    /** Health but no reflection. */
    HEALTH_ONLY,
    /** Neither health nor reflection. */
    NONE
  }

  private final List<AutoCloseable> open = Collections.synchronizedList(new ArrayList<>());
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "test-listener");
            thread.setDaemon(true);
            return thread;
          });

  private static InetSocketAddress loopback(int port) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  /**
   * A plaintext gRPC server; {@code health} sets statuses ("" is the server's overall one) on its
   * health service, when it has one.
   */
  Server grpc(
      int port, Extras extras, Map<String, ServingStatus> health, BindableService... services)
      throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(loopback(port));
    HealthStatusManager manager = null;
    switch (extras) {
      case STANDARD -> manager = GrpcServers.addStandardServices(builder);
      case V1ALPHA_REFLECTION_ONLY -> {
        manager = new HealthStatusManager();
        builder.addService(manager.getHealthService());
        @SuppressWarnings("deprecation")
        BindableService v1alpha = io.grpc.protobuf.services.ProtoReflectionService.newInstance();
        builder.addService(v1alpha);
      }
      case HEALTH_ONLY -> {
        manager = new HealthStatusManager();
        builder.addService(manager.getHealthService());
      }
      case NONE -> {}
    }
    for (BindableService service : services) {
      builder.addService(service);
    }
    Server server = builder.build().start();
    open.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    if (manager != null) {
      HealthStatusManager m = manager;
      health.forEach(m::setStatus);
    }
    return server;
  }

  /** Accepts connections and never says a word. */
  void silent(int port) throws IOException {
    List<Socket> held = Collections.synchronizedList(new ArrayList<>());
    accepting(port, held::add);
    open.add(() -> held.forEach(Listeners::closeQuietly));
  }

  /**
   * Accepts connections and resets them at once (SO_LINGER 0: RST instead of FIN).
   *
   * @return the number of connections accepted so far
   */
  AtomicInteger resetting(int port) throws IOException {
    AtomicInteger accepted = new AtomicInteger();
    accepting(
        port,
        socket -> {
          accepted.incrementAndGet();
          try {
            socket.setSoLinger(true, 0);
          } catch (IOException e) {
            // closing is all that matters
          }
          closeQuietly(socket);
        });
    return accepted;
  }

  /** A TLS server: completes handshakes with {@code tls}, then reads until the peer is done. */
  void tls(int port, SSLContext tls) throws IOException {
    accepting(
        port,
        plain ->
            threads.execute(
                () -> {
                  try (SSLSocket socket =
                      (SSLSocket)
                          tls.getSocketFactory().createSocket(plain, null, plain.getPort(), true)) {
                    socket.setUseClientMode(false);
                    socket.setSoTimeout(10_000);
                    socket.startHandshake();
                    InputStream in = socket.getInputStream();
                    while (in.read() >= 0) {
                      // drain
                    }
                  } catch (IOException e) {
                    closeQuietly(plain); // not TLS, or the peer went away: as a TLS server does
                  }
                }));
  }

  /** An HTTP/1.1 server answering every request with 200 and a short text. */
  void http(int port) throws IOException {
    HttpServer server = HttpServer.create(loopback(port), 16);
    server.createContext(
        "/",
        exchange -> {
          byte[] body = "hello from HTTP/1.1\n".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.setExecutor(threads);
    server.start();
    open.add(() -> server.stop(0));
  }

  private void accepting(int port, Consumer<Socket> onAccept) throws IOException {
    ServerSocket listener = new ServerSocket();
    try {
      listener.bind(loopback(port), 50);
    } catch (IOException e) {
      listener.close();
      throw e;
    }
    open.add(listener);
    threads.execute(
        () -> {
          while (!listener.isClosed()) {
            try {
              onAccept.accept(listener.accept());
            } catch (IOException e) {
              return; // closed
            }
          }
        });
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already gone
    }
  }

  @Override
  public void close() {
    List<AutoCloseable> all;
    synchronized (open) {
      all = new ArrayList<>(open);
      open.clear();
    }
    for (AutoCloseable closeable : all) {
      try {
        closeable.close();
      } catch (Exception e) {
        // keep closing the others
      }
    }
    threads.shutdownNow();
  }
}

package io.conveyor.operator.testing;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.config.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for Service {@code conveyor-router}: one address that sidecars are given as {@code
 * CLUSTER_ENDPOINT}, whose connections reach the replica that serves the router at the moment they
 * are opened (the Service's only ready endpoint, since readiness follows leadership).
 *
 * <p>Like kube-proxy it forwards TCP, nothing more: a connection lives until either end closes it,
 * so when a leader stops, its connections end and the sidecars' next one reaches the new leader.
 * While no replica serves, a connection is closed as soon as it is accepted, as a Service without
 * ready endpoints rejects it. At most {@link #MAX_CONNECTIONS} are open at once; more are closed at
 * once and logged.
 */
public final class RouterService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RouterService.class);

  /** A handful of sidecars open one connection each; far more means a test leaks connections. */
  static final int MAX_CONNECTIONS = 64;

  private static final int CONNECT_TIMEOUT_MILLIS = 1_000;

  private final Supplier<Optional<Integer>> servingPort;
  private final ServerSocket listener;
  private final ExecutorService threads =
      Executors.newCachedThreadPool(DaemonThreads.numbered("router-service"));
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param servingPort the loopback port of the replica serving the router, empty when none does
   */
  public RouterService(Supplier<Optional<Integer>> servingPort) {
    this.servingPort = servingPort;
    try {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for the router Service", e);
    }
    threads.execute(this::acceptLoop);
  }

  /** What sidecars dial: {@code CLUSTER_ENDPOINT}. */
  public HostPort endpoint() {
    return new HostPort("127.0.0.1", listener.getLocalPort());
  }

  private void acceptLoop() {
    while (!closed.get()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (!closed.get()) {
          log.warn("router Service stopped accepting: {}", e.toString());
        }
        return;
      }
      Optional<Integer> port = servingPort.get();
      if (port.isEmpty()) {
        closeQuietly(client); // no ready endpoint
        continue;
      }
      if (connections.size() >= MAX_CONNECTIONS) {
        log.warn("router Service refuses a connection: {} already open", connections.size());
        closeQuietly(client);
        continue;
      }
      Socket backend = new Socket();
      try {
        backend.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port.get()),
            CONNECT_TIMEOUT_MILLIS);
      } catch (IOException e) {
        // The replica stopped serving between the look-up and the connect.
        closeQuietly(client);
        closeQuietly(backend);
        continue;
      }
      Connection connection = new Connection(client, backend);
      connections.add(connection);
      threads.execute(() -> connection.pump(client, backend));
      threads.execute(() -> connection.pump(backend, client));
    }
  }

  /** One forwarded connection: either end closing (or failing) closes both. */
  private final class Connection {
    private final Socket client;
    private final Socket backend;
    private final AtomicBoolean ended = new AtomicBoolean();

    Connection(Socket client, Socket backend) {
      this.client = client;
      this.backend = backend;
    }

    void pump(Socket from, Socket to) {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // The other pump closed the sockets, or a peer reset: the connection is over either way.
      } finally {
        end();
      }
    }

    void end() {
      if (ended.compareAndSet(false, true)) {
        closeQuietly(client);
        closeQuietly(backend);
        connections.remove(this);
      }
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(listener);
    connections.forEach(Connection::end);
    threads.shutdownNow();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // closing a socket that is already broken: nothing left to release
    }
  }
}

package io.conveyor.webhook.server;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.webhook.tls.ServerTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * The HTTPS listener: the JDK's server with a bounded pool of workers and a bounded queue. When
 * both are full a new connection is closed at once (the JDK server closes connections its executor
 * refuses): the API server sees a failed call quickly instead of a growing backlog.
 */
public final class WebhookHttpsServer implements AutoCloseable {

  private final HttpsServer server;
  private final ThreadPoolExecutor executor;

  private WebhookHttpsServer(HttpsServer server, ThreadPoolExecutor executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds and starts.
   *
   * @param onRejected called (on the accepting thread) for every connection refused for load
   */
  public static WebhookHttpsServer start(
      InetSocketAddress address,
      SSLContext sslContext,
      ServerSettings settings,
      Map<String, HttpHandler> routes,
      Runnable onRejected) {
    HttpsServer server;
    try {
      server = HttpsServer.create(address, 128);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the HTTPS server to " + address, e);
    }
    server.setHttpsConfigurator(
        new HttpsConfigurator(sslContext) {
          @Override
          public void configure(HttpsParameters params) {
            params.setSSLParameters(ServerTls.parameters(getSSLContext()));
          }
        });
    RejectedExecutionHandler reject =
        (runnable, pool) -> {
          onRejected.run();
          throw new RejectedExecutionException("all workers busy");
        };
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            settings.threads(),
            settings.threads(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(settings.queue()),
            DaemonThreads.numbered("https"),
            reject);
    executor.allowCoreThreadTimeOut(true);
    server.setExecutor(executor);
    routes.forEach(server::createContext);
    server.start();
    return new WebhookHttpsServer(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /**
   * Where a client on this host reaches the server: the bound address, or loopback when it listens
   * on every interface.
   */
  public InetSocketAddress reachableAddress() {
    InetSocketAddress bound = server.getAddress();
    return bound.getAddress().isAnyLocalAddress()
        ? new InetSocketAddress(InetAddress.getLoopbackAddress(), bound.getPort())
        : bound;
  }

  /** Stops accepting, lets exchanges in progress finish for up to {@code graceSeconds}. */
  public void stop(int graceSeconds) {
    server.stop(graceSeconds);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(Math.max(1, graceSeconds), TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(0);
  }
}

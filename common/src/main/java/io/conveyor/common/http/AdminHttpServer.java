package io.conveyor.common.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.conveyor.common.concurrent.DaemonThreads;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The plain-HTTP admin endpoint every Conveyor binary serves: {@code /metrics} (Prometheus text),
 * {@code /healthz} (liveness) and {@code /readyz} (readiness), plus any routes a binary adds.
 *
 * <p>Requests are served by at most two threads with a short queue: the admin port must never
 * compete with the data path, and a scrape storm is answered by closed connections, not memory.
 */
public final class AdminHttpServer implements AutoCloseable {

  private final HttpServer server;
  private final ThreadPoolExecutor executor;

  private AdminHttpServer(HttpServer server, ThreadPoolExecutor executor) {
    this.server = server;
    this.executor = executor;
  }

  public static Builder builder(InetSocketAddress address) {
    return new Builder(address);
  }

  /** The port actually bound (useful when the builder was given port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** The answer of a health or readiness check: healthy, or not with a reason. */
  public record Check(boolean ok, String detail) {
    public static Check ok(String detail) {
      return new Check(true, detail);
    }

    public static Check failing(String detail) {
      return new Check(false, detail);
    }
  }

  public static final class Builder {
    private final InetSocketAddress address;
    private final Map<String, HttpHandler> routes = new LinkedHashMap<>();
    private Supplier<Check> liveness = () -> Check.ok("alive");
    private Supplier<Check> readiness = () -> Check.ok("ready");

    private Builder(InetSocketAddress address) {
      this.address = Objects.requireNonNull(address, "address");
    }

    public Builder metrics(PrometheusMeterRegistry registry) {
      routes.put(
          "/metrics",
          exchange ->
              respond(
                  exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
      return this;
    }

    public Builder liveness(Supplier<Check> check) {
      this.liveness = Objects.requireNonNull(check);
      return this;
    }

    public Builder readiness(Supplier<Check> check) {
      this.readiness = Objects.requireNonNull(check);
      return this;
    }

    public Builder route(String path, HttpHandler handler) {
      routes.put(path, handler);
      return this;
    }

    public AdminHttpServer start() {
      routes.putIfAbsent("/healthz", checkHandler(liveness));
      routes.putIfAbsent("/readyz", checkHandler(readiness));
      HttpServer server;
      try {
        server = HttpServer.create(address, 16);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot bind the admin HTTP server to " + address, e);
      }
      ThreadPoolExecutor executor =
          new ThreadPoolExecutor(
              1,
              2,
              30,
              TimeUnit.SECONDS,
              new ArrayBlockingQueue<>(32),
              DaemonThreads.named("admin-http"),
              new ThreadPoolExecutor.AbortPolicy());
      server.setExecutor(executor);
      routes.forEach(server::createContext);
      server.start();
      return new AdminHttpServer(server, executor);
    }

    private static HttpHandler checkHandler(Supplier<Check> check) {
      return exchange -> {
        Check result;
        try {
          result = check.get();
        } catch (RuntimeException e) {
          result = Check.failing("check failed: " + e);
        }
        respond(
            exchange, result.ok() ? 200 : 503, "text/plain; charset=utf-8", result.detail() + "\n");
      };
    }
  }

  /** Writes a complete response and closes the exchange. */
  public static void respond(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}

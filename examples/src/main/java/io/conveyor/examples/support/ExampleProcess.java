package io.conveyor.examples.support;

import com.sun.net.httpserver.HttpHandler;
import io.conveyor.common.http.AdminHttpServer;
import io.grpc.BindableService;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edges of an example runnable: a Netty gRPC server with the services, health and reflection
 * ({@link ServiceHost}), the admin HTTP server (/metrics, /healthz, /readyz and extra routes), and
 * an orderly stop that closes everything in reverse order of start.
 */
public final class ExampleProcess implements RunningApp {

  private static final Logger log = LoggerFactory.getLogger(ExampleProcess.class);
  private static final Duration GRACE = Duration.ofSeconds(5);

  private final String name;
  private final PrintStream out;
  private final ServiceHost host;
  private final AdminHttpServer admin;
  private final Deque<AutoCloseable> resources = new ConcurrentLinkedDeque<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile int exitCode;

  private ExampleProcess(String name, PrintStream out, ServiceHost host, AdminHttpServer admin) {
    this.name = name;
    this.out = out;
    this.host = host;
    this.admin = admin;
  }

  /**
   * Starts the gRPC server (and the admin server with {@code routes}); {@code out} gets the {@code
   * <name>: stopped} line.
   */
  public static ExampleProcess start(
      String name,
      PrintStream out,
      ServerSettings server,
      PrometheusMeterRegistry meters,
      Map<String, HttpHandler> routes,
      List<BindableService> services) {
    ServiceHost host =
        ServiceHost.start(
            NettyServerBuilder.forAddress(
                    new InetSocketAddress(server.bindAddress(), server.port()))
                .maxInboundMessageSize(64 << 20)
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true),
            services.toArray(BindableService[]::new));
    AdminHttpServer admin;
    try {
      AdminHttpServer.Builder builder =
          AdminHttpServer.builder(new InetSocketAddress(server.bindAddress(), server.adminPort()))
              .metrics(meters);
      routes.forEach(builder::route);
      admin = builder.start();
    } catch (RuntimeException e) {
      host.close(Duration.ZERO);
      throw e;
    }
    return new ExampleProcess(name, out, host, admin);
  }

  public int grpcPort() {
    return host.port();
  }

  public int adminPort() {
    return admin.port();
  }

  /** The line printed once the process serves. */
  public String servingLine() {
    return name
        + ": serving "
        + String.join(", ", host.serviceNames())
        + " (with health and reflection) on port "
        + grpcPort()
        + "; admin http on port "
        + adminPort();
  }

  /** Closed when the process stops, before the servers, latest first. */
  public void closeOnStop(AutoCloseable resource) {
    resources.push(resource);
  }

  /** Stops with {@code code} as the process's exit code. */
  public void stop(int code) {
    exitCode = code;
    close();
  }

  @Override
  public int awaitTermination() throws InterruptedException {
    stopped.await();
    return exitCode;
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    log.info("{} stopping", name);
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        log.warn("closing a resource of {} failed", name, e);
      }
    }
    host.close(GRACE);
    admin.close();
    // Printed, not logged: on SIGTERM logback's own shutdown hook may already have stopped logging.
    out.println(name + ": stopped");
    out.flush();
    stopped.countDown();
  }
}

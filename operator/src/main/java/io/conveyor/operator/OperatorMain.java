package io.conveyor.operator;

import io.conveyor.common.config.ConfigException;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar conveyor-operator.jar}: reads its settings from the environment, serves /metrics
 * /healthz /readyz on ADMIN_PORT at once, and campaigns for the leader Lease. On SIGTERM it
 * releases the lease so that the standby takes over without waiting for it to expire.
 */
public final class OperatorMain {

  private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);

  private OperatorMain() {}

  public static void main(String[] args) throws InterruptedException {
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("conveyor-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus("conveyor-operator");
    KubernetesClient client = KubernetesClients.create(Config.autoConfigure(null));
    ConveyorOperator operator =
        new ConveyorOperator(
            config,
            client,
            meters,
            Clock.systemUTC(),
            () ->
                NettyServerBuilder.forAddress(
                        new InetSocketAddress(config.bindAddress(), config.routerPort()))
                    .permitKeepAliveTime(10, TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true)
                    .maxInboundMessageSize(4 << 20));
    AdminHttpServer admin =
        AdminHttpServer.builder(new InetSocketAddress(config.bindAddress(), config.adminPort()))
            .metrics(meters)
            .liveness(operator::liveness)
            .readiness(operator::readiness)
            .start();
    operator.start();
    log.info(
        "conveyor-operator {} started: admin on :{}, router on :{} while leading, namespaces {}",
        config.identity(),
        admin.port(),
        config.routerPort(),
        config.watchesAllNamespaces() ? "all" : config.namespaces());

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down: releasing the lease");
                  operator.close(Duration.ofSeconds(20));
                  admin.close();
                  client.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
  }
}

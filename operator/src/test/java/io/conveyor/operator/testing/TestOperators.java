package io.conveyor.operator.testing;

import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.router.core.RouterSettings;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/** Operators for tests: production wiring, short lease timings, the router on an ephemeral port. */
public final class TestOperators {

  public static final String LEASE_NAMESPACE = "conveyor-system";
  public static final String LEASE_NAME = "conveyor-operator-leader";

  private TestOperators() {}

  /** A replica whose router port serves plaintext, as {@code SECURITY_MODE=plaintext}. */
  public static OperatorConfig config(String identity, Duration routerWarmUp) {
    return config(identity, routerWarmUp, false);
  }

  /**
   * A replica whose router port serves mutual TLS under the CA of Secret {@code conveyor-ca} when
   * {@code mutualTls} (the production default, {@code SECURITY_MODE=mtls}), else plaintext.
   */
  public static OperatorConfig config(String identity, Duration routerWarmUp, boolean mutualTls) {
    return new OperatorConfig(
        identity,
        LEASE_NAMESPACE,
        LEASE_NAME,
        Duration.ofSeconds(5),
        Duration.ofSeconds(3),
        Duration.ofMillis(400),
        "127.0.0.1",
        0,
        0,
        Set.of(),
        8,
        routerWarmUp,
        Duration.ofMinutes(5),
        RouterSettings.defaults(),
        mutualTls);
  }

  public static ConveyorOperator start(MockCluster cluster, OperatorConfig config, Clock clock) {
    return start(cluster, config, clock, new SimpleMeterRegistry());
  }

  public static ConveyorOperator start(
      MockCluster cluster, OperatorConfig config, Clock clock, MeterRegistry meters) {
    return new ConveyorOperator(
            config,
            cluster.newOperatorClient(),
            meters,
            clock,
            () -> NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
        .start();
  }
}

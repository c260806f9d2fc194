package io.conveyor.operator;

import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.operator.leader.LeadershipLoop;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.conveyor.router.core.RouterCore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One replica of the operator: campaigns for the leader Lease and, while it holds it, runs the
 * reconcilers and serves the router. Owns neither the Kubernetes client nor the meter registry.
 */
public final class ConveyorOperator implements AutoCloseable {

  private final OperatorConfig config;
  private final LeadershipLoop leadership;

  /**
   * @param serverBuilder makes the builder of the router's gRPC server for each term (a Netty one
   *     on {@code ROUTER_PORT} in production, port 0 in tests)
   */
  public ConveyorOperator(
      OperatorConfig config,
      KubernetesClient client,
      MeterRegistry meters,
      Clock clock,
      Supplier<ServerBuilder<?>> serverBuilder) {
    this.config = config;
    this.leadership =
        new LeadershipLoop(client, config, new OperatorMetrics(meters), clock, serverBuilder);
  }

  public ConveyorOperator start() {
    leadership.start();
    return this;
  }

  /**
   * Ready while this replica's router serves, i.e. while it leads: Service conveyor-router then
   * sends sidecars to the leader only.
   */
  public AdminHttpServer.Check readiness() {
    if (leadership.serving()) {
      return AdminHttpServer.Check.ok("leader " + config.identity() + ": serving the router");
    }
    String leader = leadership.leader().orElse("none yet");
    return AdminHttpServer.Check.failing(
        (leadership.leading() ? "leader, starting" : "standby") + "; current leader: " + leader);
  }

  /** Alive as long as the process runs: a standby is healthy. */
  public AdminHttpServer.Check liveness() {
    return AdminHttpServer.Check.ok(leadership.leading() ? "leading" : "standby");
  }

  public boolean serving() {
    return leadership.serving();
  }

  public boolean leading() {
    return leadership.leading();
  }

  /** Leader terms in a row that failed to start; 0 once one starts. */
  public int failedTerms() {
    return leadership.failedTerms();
  }

  public String identity() {
    return config.identity();
  }

  public Optional<Integer> routerPort() {
    return leadership.routerPort();
  }

  public Optional<RouterCore> routerCore() {
    return leadership.routerCore();
  }

  /**
   * The Conveyor CA of this replica's leader term: present while it leads (once the term loaded it
   * from Secret {@code conveyor-ca}), empty otherwise. The same root in every term.
   */
  public Optional<CertificateAuthority> certificateAuthority() {
    return leadership.certificateAuthority();
  }

  /** Gives up the lease (so a standby takes over at once) and stops. */
  public void close(Duration timeout) {
    leadership.close(timeout);
  }

  @Override
  public void close() {
    leadership.close();
  }
}

package io.conveyor.operator.config;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.router.core.RouterSettings;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Settings of the operator, read once from the environment at start.
 *
 * @param identity who this replica is in the leader Lease ({@code POD_NAME}, else {@code HOSTNAME})
 * @param leaseNamespace the operator's own namespace ({@code POD_NAMESPACE}): of the Lease and of
 *     the CA's Secret {@code conveyor-ca}
 * @param leaseName name of the Lease ({@code LEASE_NAME})
 * @param leaseDuration how long a Lease holds without renewal ({@code LEASE_DURATION_SECS})
 * @param renewDeadline the leader gives up (and stops serving) when it could not renew for this
 *     long ({@code LEASE_RENEW_DEADLINE_SECS}); shorter than the lease, so it stops before anyone
 *     else may take over
 * @param retryPeriod how often candidates try to acquire and the leader renews ({@code
 *     LEASE_RETRY_PERIOD_MILLIS})
 * @param bindAddress address the gRPC and admin servers listen on ({@code BIND_ADDRESS})
 * @param routerPort port of SidecarCoordinator while leading ({@code ROUTER_PORT})
 * @param adminPort port of /metrics, /healthz, /readyz ({@code ADMIN_PORT})
 * @param namespaces namespaces watched for pods and pipelines; empty means all ({@code
 *     WATCH_NAMESPACES}, comma-separated)
 * @param reconcileThreads reconciliations running at once ({@code RECONCILE_THREADS})
 * @param routerWarmUp after taking over, how long an absent registration is not yet read as a lost
 *     sidecar, and how long the embedded router holds back a set with an incomplete pipeline
 *     ({@code ROUTER_WARMUP_SECS}, also in {@code router})
 * @param heartbeatStatusRefresh how stale {@code status.lastHeartbeat} may get before a status
 *     write refreshes it on its own ({@code HEARTBEAT_STATUS_REFRESH_SECS})
 * @param router limits of the embedded router ({@code ROUTER_MAX_SIDECARS}, {@code
 *     ROUTER_MAX_PIPELINES}, {@code ROUTER_MISSED_HEARTBEATS}) and its subset size ({@code
 *     ROUTER_SUBSET_SIZE}, 1 to {@value RendezvousSubset#MAX_SIZE}, as in the standalone router)
 * @param mutualTls whether the leader's router port serves mutual TLS under the operator's CA and
 *     lets a coordinator call only to the pod its certificate names ({@code SECURITY_MODE}: {@code
 *     mtls}, the default, or {@code plaintext})
 */
public record OperatorConfig(
    String identity,
    String leaseNamespace,
    String leaseName,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod,
    String bindAddress,
    int routerPort,
    int adminPort,
    Set<String> namespaces,
    int reconcileThreads,
    Duration routerWarmUp,
    Duration heartbeatStatusRefresh,
    RouterSettings router,
    boolean mutualTls) {

  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$");

  public OperatorConfig {
    namespaces = Set.copyOf(namespaces);
  }

  /** True when pods and pipelines of every namespace are watched. */
  public boolean watchesAllNamespaces() {
    return namespaces.isEmpty();
  }

  public static OperatorConfig fromEnv(Map<String, String> env) {
    EnvReader reader = new EnvReader(env);
    String identity =
        reader
            .raw("POD_NAME")
            .or(() -> reader.raw("HOSTNAME"))
            .orElse("conveyor-operator-" + UUID.randomUUID());
    String leaseNamespace =
        reader.matching("POD_NAMESPACE", "conveyor-system", DNS_LABEL, "a namespace name");
    String leaseName =
        reader.matching("LEASE_NAME", "conveyor-operator-leader", DNS_SUBDOMAIN, "a Lease name");
    Duration leaseDuration = reader.seconds("LEASE_DURATION_SECS", Duration.ofSeconds(15), 2, 300);
    Duration renewDeadline =
        reader.seconds("LEASE_RENEW_DEADLINE_SECS", Duration.ofSeconds(10), 1, 299);
    Duration retryPeriod =
        reader.millis("LEASE_RETRY_PERIOD_MILLIS", Duration.ofSeconds(2), 100, 60_000);
    String bind =
        reader.ipAddress("BIND_ADDRESS", "0.0.0.0", "an IP address to listen on, e.g. 0.0.0.0");
    int routerPort = reader.port("ROUTER_PORT", 50051);
    int adminPort = reader.port("ADMIN_PORT", 8080);
    Set<String> namespaces = new TreeSet<>();
    reader
        .raw("WATCH_NAMESPACES")
        .ifPresent(
            list ->
                Arrays.stream(list.split(","))
                    .map(String::strip)
                    .filter(s -> !s.isEmpty())
                    .forEach(
                        ns -> {
                          if (DNS_LABEL.matcher(ns).matches()) {
                            namespaces.add(ns);
                          } else {
                            reader.problem(
                                "WATCH_NAMESPACES='"
                                    + list
                                    + "' is not valid: '"
                                    + ns
                                    + "' is not a namespace name (expected a comma-separated list,"
                                    + " empty for all namespaces)");
                          }
                        }));
    int threads = reader.integer("RECONCILE_THREADS", 10, 1, 200);
    Duration warmUp = reader.seconds("ROUTER_WARMUP_SECS", Duration.ofSeconds(15), 0, 600);
    Duration refresh =
        reader.seconds("HEARTBEAT_STATUS_REFRESH_SECS", Duration.ofMinutes(5), 30, 86_400);
    RouterSettings defaults = RouterSettings.defaults();
    int maxSidecars = reader.integer("ROUTER_MAX_SIDECARS", defaults.maxSidecars(), 1, 1_000_000);
    int maxPipelines =
        reader.integer("ROUTER_MAX_PIPELINES", defaults.maxPipelines(), 1, 1_000_000);
    int missed = reader.integer("ROUTER_MISSED_HEARTBEATS", defaults.missedHeartbeats(), 2, 100);
    int subsetSize =
        reader.integer("ROUTER_SUBSET_SIZE", defaults.subsetSize(), 1, RendezvousSubset.MAX_SIZE);

    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      reader.problem(
          "LEASE_RENEW_DEADLINE_SECS ("
              + renewDeadline.toSeconds()
              + ") must be shorter than LEASE_DURATION_SECS ("
              + leaseDuration.toSeconds()
              + "): the leader must stop serving before another replica may take over");
    }
    // fabric8's elector waits up to 2.2 retry periods between renewals.
    if (retryPeriod.multipliedBy(22).dividedBy(10).compareTo(renewDeadline) >= 0) {
      reader.problem(
          "LEASE_RETRY_PERIOD_MILLIS ("
              + retryPeriod.toMillis()
              + ") is too long for LEASE_RENEW_DEADLINE_SECS ("
              + renewDeadline.toSeconds()
              + "): 2.2 retry periods must fit in the renew deadline");
    }
    if (routerPort == adminPort) {
      reader.problem("ROUTER_PORT and ADMIN_PORT must differ, both are " + routerPort);
    }
    String securityMode = reader.string("SECURITY_MODE", "mtls");
    if (!securityMode.equals("mtls") && !securityMode.equals("plaintext")) {
      reader.problem(
          "SECURITY_MODE='"
              + securityMode
              + "' is not valid: expected mtls (default) or plaintext");
    }
    reader.validate();
    RouterSettings router =
        new RouterSettings(
                maxSidecars,
                missed,
                defaults.minHeartbeatInterval(),
                defaults.maxHeartbeatInterval(),
                defaults.defaultHeartbeatInterval(),
                maxPipelines,
                // The embedded router holds back incomplete plans for the same window.
                warmUp)
            .withSubsetSize(subsetSize);
    return new OperatorConfig(
        identity,
        leaseNamespace,
        leaseName,
        leaseDuration,
        renewDeadline,
        retryPeriod,
        bind,
        routerPort,
        adminPort,
        namespaces,
        threads,
        warmUp,
        refresh,
        router,
        securityMode.equals("mtls"));
  }
}

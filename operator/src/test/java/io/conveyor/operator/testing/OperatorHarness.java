package io.conveyor.operator.testing;

import static org.awaitility.Awaitility.await;

import io.conveyor.common.config.HostPort;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What every operator integration test sets up and tears down: a CRUD mock API server with the CRDs
 * of {@code crds/}, the operator replicas the test starts on it, and, at the end, the replicas
 * stopped, the operator's requests checked against deploy/'s RBAC ({@link RbacAudit}) and the
 * server closed.
 *
 * <p>Registered on a static field ({@code @RegisterExtension static OperatorHarness harness = new
 * OperatorHarness();}) the cluster lives for the whole class, and {@code @BeforeAll} methods may
 * start operators on it; on an instance field each test gets a cluster of its own. Operators are
 * started by the test, not here, so that a test can prepare the cluster before any replica runs.
 *
 * <p>Sidecars are real ({@link SidecarPod}: {@code io.conveyor.sidecar.Sidecar} and the services it
 * discovers) and reach the replicas through {@link #routerEndpoint()}, as through the Service.
 */
public final class OperatorHarness
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  /** How long a replica may take to win the Lease and serve on a loaded two-core machine. */
  public static final Duration LEADERSHIP_TIMEOUT = Duration.ofSeconds(20);

  private static final Duration OPERATOR_STOP_TIMEOUT = Duration.ofSeconds(10);

  /** Closed in reverse order of creation: what was started last depends on what came before. */
  private final Deque<AutoCloseable> started = new ArrayDeque<>();

  /** The replicas started on the current cluster, for {@link RouterService}. */
  private final List<ConveyorOperator> operators = new CopyOnWriteArrayList<>();

  private boolean classScoped;
  private MockCluster cluster;
  private RouterService routerService;

  @Override
  public void beforeAll(ExtensionContext context) {
    classScoped = true;
    open();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (!classScoped) {
      open();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (!classScoped) {
      tearDown();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    tearDown();
  }

  public MockCluster cluster() {
    return requireOpen();
  }

  /** The test's own client (not the operator's: {@link RbacAudit} tells them apart). */
  public KubernetesClient client() {
    return requireOpen().client();
  }

  /**
   * Starts a replica with production wiring and the short lease timings of {@link TestOperators};
   * it is stopped when the harness tears down (stopping it earlier is fine).
   */
  public ConveyorOperator start(String identity, Duration routerWarmUp, Clock clock) {
    return start(identity, routerWarmUp, clock, new SimpleMeterRegistry());
  }

  public ConveyorOperator start(
      String identity, Duration routerWarmUp, Clock clock, MeterRegistry meters) {
    return start(TestOperators.config(identity, routerWarmUp), clock, meters);
  }

  /** As {@link #start(String, Duration, Clock)}, with a configuration of the test's own. */
  public ConveyorOperator start(OperatorConfig config, Clock clock, MeterRegistry meters) {
    ConveyorOperator operator = TestOperators.start(requireOpen(), config, clock, meters);
    operators.add(operator);
    started.push(() -> operator.close(OPERATOR_STOP_TIMEOUT));
    return operator;
  }

  /** As {@link #start(String, Duration, Clock)}, the only replica: returns once it serves. */
  public ConveyorOperator startLeader(String identity, Duration routerWarmUp, Clock clock) {
    ConveyorOperator operator = start(identity, routerWarmUp, clock);
    await().atMost(LEADERSHIP_TIMEOUT).until(operator::serving);
    return operator;
  }

  /**
   * Service {@code conveyor-router}: the address sidecars are given, reaching whichever replica
   * started here serves the router when a connection is opened.
   */
  public HostPort routerEndpoint() {
    requireOpen();
    if (routerService == null) {
      RouterService service = new RouterService(this::servingRouterPort);
      routerService = service;
      started.push(
          () -> {
            routerService = null;
            service.close();
          });
    }
    return routerService.endpoint();
  }

  /**
   * Starts a real sidecar for {@code pod} (which must exist, with its UID, and its IP if it has
   * one), pointed at {@link #routerEndpoint()}, discovering {@code services} served in this JVM. It
   * is killed when the harness tears down unless the test stopped it.
   */
  public SidecarPod startSidecar(Pod pod, String sidecarId, ServiceDescriptor... services) {
    return startSidecar(pod, sidecarId, SidecarPod.Security.plaintext(), services);
  }

  /** As {@link #startSidecar(Pod, String, ServiceDescriptor...)}, secured as {@code security}. */
  public SidecarPod startSidecar(
      Pod pod, String sidecarId, SidecarPod.Security security, ServiceDescriptor... services) {
    SidecarPod sidecar = SidecarPod.start(pod, sidecarId, routerEndpoint(), security, services);
    started.push(sidecar);
    return sidecar;
  }

  /** The leader Lease the replicas campaign for. */
  public Lease lease() {
    return client()
        .leases()
        .inNamespace(TestOperators.LEASE_NAMESPACE)
        .withName(TestOperators.LEASE_NAME)
        .get();
  }

  private void open() {
    if (cluster != null) {
      throw new IllegalStateException("the harness is already open");
    }
    cluster = new MockCluster();
    operators.clear();
  }

  private Optional<Integer> servingRouterPort() {
    for (ConveyorOperator operator : operators) {
      Optional<Integer> port = operator.routerPort();
      if (port.isPresent()) {
        return port;
      }
    }
    return Optional.empty();
  }

  private MockCluster requireOpen() {
    if (cluster == null) {
      throw new IllegalStateException(
          "the harness is not open: register it with @RegisterExtension");
    }
    return cluster;
  }

  /**
   * Stops everything the test started, then checks the operator's requests; the first failure is
   * thrown, later ones are attached to it, and the server is closed in any case.
   */
  private void tearDown() {
    if (cluster == null) {
      return;
    }
    Throwable failure = null;
    while (!started.isEmpty()) {
      try {
        started.pop().close();
      } catch (Exception | AssertionError e) {
        failure = addTo(failure, e);
      }
    }
    try {
      RbacAudit.check(cluster.drainRequests());
    } catch (AssertionError e) {
      failure = addTo(failure, e);
    } finally {
      cluster.close();
      cluster = null;
    }
    if (failure instanceof RuntimeException runtime) {
      throw runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
    if (failure != null) {
      throw new IllegalStateException("tearing the operator harness down failed", failure);
    }
  }

  private static Throwable addTo(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}

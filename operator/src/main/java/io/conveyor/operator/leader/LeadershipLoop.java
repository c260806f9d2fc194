package io.conveyor.operator.leader;

import io.conveyor.common.concurrent.DaemonThreads;
import io.conveyor.common.retry.Backoff;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.operator.config.OperatorConfig;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.conveyor.router.core.RouterCore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectorBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.grpc.ServerBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Campaigns for the leader Lease for as long as the operator runs, and runs a {@link LeaderTerm}
 * while it holds it.
 *
 * <p>Why not the operator framework's own leader election: on losing the lease it either exits the
 * process or keeps reconciling as a non-leader, and it cannot lead again. Here a lost lease stops
 * the router at once (in the elector's callback, before anything else), then the term's reconcilers
 * on the term thread, and the replica campaigns again as a follower. Its readiness follows {@link
 * #serving()}.
 *
 * <p>Threads: the fabric8 elector runs on {@code leader-election} threads and must never block on a
 * term starting (it would miss renewals), so terms start and close on the single {@code
 * leader-term} thread, in order. A term that fails to start gives the lease up and the next
 * campaign waits with exponential backoff.
 */
public final class LeadershipLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeadershipLoop.class);
  private static final Backoff FAILED_TERM_BACKOFF =
      new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1), 2.0, 0.2);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final Supplier<ServerBuilder<?>> serverBuilder;

  private final ExecutorService electionThreads =
      Executors.newCachedThreadPool(DaemonThreads.numbered("leader-election"));
  private final ScheduledExecutorService termThread =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.numbered("leader-term"));
  private final Object lock = new Object();
  private final AtomicInteger failedTerms = new AtomicInteger();

  private CompletableFuture<?> campaign;
  private LeaderTerm term;
  private boolean closed;
  private volatile boolean leading;
  private volatile String leader;

  public LeadershipLoop(
      KubernetesClient client,
      OperatorConfig config,
      OperatorMetrics metrics,
      Clock clock,
      Supplier<ServerBuilder<?>> serverBuilder) {
    this.client = client;
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.serverBuilder = serverBuilder;
  }

  public void start() {
    campaign();
  }

  /**
   * How many leader terms in a row failed to start (each one won the lease and gave it up); 0 once
   * a term starts.
   */
  public int failedTerms() {
    return failedTerms.get();
  }

  /** True while this replica holds the lease (its term may still be starting). */
  public boolean leading() {
    return leading;
  }

  /** True while this replica's router serves: what readiness reports. */
  public boolean serving() {
    synchronized (lock) {
      return term != null && term.serving();
    }
  }

  /** Identity of the current leader as last observed, if any. */
  public Optional<String> leader() {
    return Optional.ofNullable(leader).filter(s -> !s.isBlank());
  }

  public String identity() {
    return config.identity();
  }

  /** Port of the router while serving (an ephemeral one in tests). */
  public Optional<Integer> routerPort() {
    synchronized (lock) {
      return term == null ? Optional.empty() : term.routerPort();
    }
  }

  /** The router core of the current term, while leading. */
  public Optional<RouterCore> routerCore() {
    synchronized (lock) {
      return term == null ? Optional.empty() : term.core();
    }
  }

  /** The CA of the current term, while leading and once the term loaded it. */
  public Optional<CertificateAuthority> certificateAuthority() {
    synchronized (lock) {
      return term == null ? Optional.empty() : term.certificateAuthority();
    }
  }

  // ------------------------------------------------------------------ campaign

  private void campaign() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      var electionConfig =
          new LeaderElectionConfigBuilder()
              .withName(config.leaseName())
              .withLock(
                  new LeaseLock(config.leaseNamespace(), config.leaseName(), config.identity()))
              .withLeaseDuration(config.leaseDuration())
              .withRenewDeadline(config.renewDeadline())
              .withRetryPeriod(config.retryPeriod())
              .withReleaseOnCancel(true)
              .withLeaderCallbacks(
                  new LeaderCallbacks(this::onStartLeading, this::onStopLeading, this::onNewLeader))
              .build();
      CompletableFuture<?> future =
          new LeaderElectorBuilder(client, electionThreads)
              .withConfig(electionConfig)
              .build()
              .start();
      campaign = future;
      future.whenComplete((ignored, error) -> campaignEnded(future, error));
    }
    log.info(
        "campaigning for Lease {}/{} as {}",
        config.leaseNamespace(),
        config.leaseName(),
        config.identity());
  }

  private void campaignEnded(CompletableFuture<?> future, Throwable error) {
    // The elector calls onStopLeading itself; this makes sure of it whatever the path.
    onStopLeading();
    synchronized (lock) {
      if (closed || campaign != future) {
        return;
      }
    }
    if (error != null && !(error instanceof java.util.concurrent.CancellationException)) {
      log.warn("leader election ended with an error; campaigning again", error);
    }
    int failures = failedTerms.get();
    Duration wait =
        failures == 0
            ? config.retryPeriod()
            : FAILED_TERM_BACKOFF.delay(failures - 1, ThreadLocalRandom.current());
    termThread.schedule(this::campaign, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void onNewLeader(String identity) {
    leader = identity;
    log.info("leader is now {}", identity == null || identity.isBlank() ? "(none)" : identity);
  }

  private void onStartLeading() {
    LeaderTerm started;
    synchronized (lock) {
      if (closed || leading) {
        return;
      }
      leading = true;
      started = new LeaderTerm(client, config, metrics, clock, serverBuilder, this::giveUp);
      term = started;
    }
    metrics.leading(true);
    log.info("acquired the leader Lease; starting the term");
    termThread.execute(
        () -> {
          try {
            started.start();
            failedTerms.set(0);
          } catch (RuntimeException e) {
            failedTerms.incrementAndGet();
            metrics.termFailed();
            log.error("the leader term failed to start; giving up the lease", e);
            giveUp("term failed to start: " + e.getMessage());
          }
        });
  }

  /** Stops serving at once, then closes the term on the term thread. Idempotent. */
  private void onStopLeading() {
    LeaderTerm ending;
    synchronized (lock) {
      if (!leading) {
        return;
      }
      leading = false;
      ending = term;
    }
    metrics.leading(false);
    ending.stopServing();
    log.info("lost or released the leader Lease; stopped serving");
    termThread.execute(
        () -> {
          long start = System.nanoTime();
          ending.close();
          log.info("leader term closed in {} ms", (System.nanoTime() - start) / 1_000_000);
          synchronized (lock) {
            if (term == ending) {
              term = null;
            }
          }
        });
  }

  /** Ends the current campaign (releasing the lease); a new one starts after a pause. */
  private void giveUp(String reason) {
    CompletableFuture<?> current;
    synchronized (lock) {
      current = campaign;
    }
    log.warn("giving up leadership: {}", reason);
    if (current != null) {
      current.cancel(true);
    }
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * Stops the router and the reconcilers, then releases the lease, so that the replica taking over
   * never overlaps with this one's reconciles and does not wait for the lease to expire. Waits up
   * to {@code timeout} for the term to close.
   */
  public void close(Duration timeout) {
    CompletableFuture<?> current;
    synchronized (lock) {
      closed = true;
      current = campaign;
    }
    onStopLeading();
    termThread.shutdown();
    try {
      if (!termThread.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("the leader term did not stop within {}", timeout);
        termThread.shutdownNow();
      }
    } catch (InterruptedException e) {
      termThread.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (current != null) {
      current.cancel(true); // releases the lease (releaseOnCancel) before returning
    }
    electionThreads.shutdownNow();
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}

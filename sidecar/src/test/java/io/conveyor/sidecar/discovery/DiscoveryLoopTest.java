package io.conveyor.sidecar.discovery;

import static io.conveyor.sidecar.discovery.ConveyorServices.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import io.grpc.Server;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Periodic re-discovery: when scans happen, what is reported, and how requests coalesce. */
class DiscoveryLoopTest {

  private static final Duration INTERVAL = Duration.ofSeconds(10);

  private final int port = FreePorts.anyFreePort();
  private final Listeners listeners = new Listeners();
  private final ExecutorService probePool = Executors.newFixedThreadPool(2);
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final SidecarMetrics metrics = new SidecarMetrics(meters);
  private final List<List<DiscoveredService>> changes = new CopyOnWriteArrayList<>();
  private DiscoveryLoop loop;

  @AfterEach
  void stop() {
    if (loop != null) {
      loop.close();
    }
    listeners.close();
    probePool.shutdownNow();
  }

  /**
   * A scanner of the test's one port. The probe's deadline is generous: the first probe in a JVM (a
   * cold gRPC channel, reflection) took over a second with both cores busy, timed out, and the
   * service went unfound. No test here waits for this deadline to pass.
   */
  private PortScanner scanner(ExecutorService pool) {
    return new PortScanner(
        new PortProber("127.0.0.1", 10_000, PortScannerTest::channel), port, port, Set.of(), pool);
  }

  private double scans() {
    return metrics.discoveryRuns("ok").count();
  }

  private Server serveTransform(String name) throws IOException {
    return listeners.grpc(port, Listeners.Extras.STANDARD, Map.of(), transform(name));
  }

  private static List<String> names(List<DiscoveredService> services) {
    return services.stream().map(s -> s.getDescription().getName()).toList();
  }

  /** Scans played one by one on a manual scheduler. */
  @Nested
  class Schedule {

    private final ManualScheduler scheduler = new ManualScheduler();

    private DiscoveryLoop start(ExecutorService pool) {
      loop = new DiscoveryLoop(scanner(pool), INTERVAL, scheduler, changes::add, metrics);
      loop.start();
      return loop;
    }

    private List<Long> pendingDelays() {
      return scheduler.pending().stream().map(ManualScheduler.Task::delayMillis).toList();
    }

    @Test
    void theFirstScanRunsAtOnceAndCompletesFirstScanEvenWhenNothingIsFound() {
      start(probePool);
      assertThat(pendingDelays()).containsExactly(0L);
      assertThat(loop.firstScan()).isNotDone();

      scheduler.runNext();

      assertThat(loop.firstScan()).isDone();
      assertThat(loop.current()).isEmpty();
      assertThat(changes).as("nothing found is no change").isEmpty();
    }

    @Test
    void untilAServiceWasFirstFoundScansComeEverySecondForHalfAMinuteThenBackOff() {
      start(probePool);

      List<Long> delays = new ArrayList<>();
      for (int i = 0; i < 37; i++) {
        scheduler.runNext();
        delays.addAll(pendingDelays());
      }

      assertThat(delays.subList(0, 31)).as("the app may still be starting").containsOnly(1_000L);
      assertThat(delays.subList(31, 37))
          .containsExactly(2_000L, 4_000L, 8_000L, 10_000L, 10_000L, 10_000L);
      assertThat(scans()).isEqualTo(37);
    }

    @Test
    void theFastRetriesBackOffToTheIntervalAndStayThere() {
      start(probePool);

      for (int i = 0; i < 80; i++) {
        scheduler.runNext();
      }

      assertThat(pendingDelays()).containsExactly(10_000L);
      assertThat(scans()).isEqualTo(80);
      assertThat(metrics.discoveryRuns("error").count()).isZero();
    }

    @Test
    void aProbeThatRanOutOfTimeIsRetriedSoonEvenWhenServicesWereFound() throws Exception {
      int first = FreePorts.block(2);
      Server server =
          listeners.grpc(first, Listeners.Extras.STANDARD, Map.of(), transform("mask-pii"));
      listeners.silent(first + 1); // accepts and never answers: the probe times out
      loop =
          new DiscoveryLoop(
              new PortScanner(
                  new PortProber("127.0.0.1", 2_000, PortScannerTest::channel),
                  first,
                  first + 1,
                  Set.of(),
                  probePool),
              INTERVAL,
              scheduler,
              changes::add,
              metrics);
      loop.start();

      scheduler.runNext();
      scheduler.runNext();

      assertThat(names(loop.current())).containsExactly("mask-pii");
      assertThat(pendingDelays())
          .as("a service may have been missed: retry soon, backing off")
          .containsExactly(2_000L);

      for (int i = 0; i < 4; i++) {
        scheduler.runNext();
      }
      assertThat(pendingDelays()).as("backed off to the interval").containsExactly(10_000L);

      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      scheduler.runNext();
      assertThat(loop.current()).isEmpty();
      assertThat(pendingDelays())
          .as("the pod changed while a port stays silent: the fast retries start over")
          .containsExactly(1_000L);
    }

    @Test
    void servicesFoundAreReportedOnceAndScannedForAtTheInterval() throws Exception {
      Server server = serveTransform("mask-pii");
      start(probePool);

      scheduler.runNext();
      assertThat(changes).hasSize(1);
      assertThat(names(changes.get(0))).containsExactly("mask-pii");
      assertThat(names(loop.current())).containsExactly("mask-pii");
      assertThat(pendingDelays()).containsExactly(10_000L);

      scheduler.runNext();
      assertThat(changes).as("the same services again are no change").hasSize(1);
      assertThat(pendingDelays()).containsExactly(10_000L);

      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      scheduler.runNext();
      assertThat(changes).hasSize(2);
      assertThat(changes.get(1)).isEmpty();
      assertThat(loop.current()).isEmpty();
      assertThat(pendingDelays())
          .as("empty again: the fast retries start over")
          .containsExactly(1_000L);
    }

    @Test
    void requestsWhileAScanIsQueuedAreCoalescedIntoOne() {
      start(probePool);
      scheduler.runNext();
      assertThat(pendingDelays()).containsExactly(1_000L);

      loop.requestScan();
      loop.requestScan();
      loop.requestScan();

      assertThat(pendingDelays())
          .as("the periodic scan is replaced by one immediate scan")
          .containsExactly(0L);
      scheduler.runNext();
      assertThat(scans()).isEqualTo(2);
      assertThat(pendingDelays()).hasSize(1);
    }

    @Test
    void aRequestDuringAScanMeansExactlyOneMoreScanAfterIt() {
      // The request arrives while the scan is probing.
      ExecutorService probing = new RunFirst(() -> loop.requestScan(), probePool);
      start(probing);

      scheduler.runNext();

      assertThat(pendingDelays()).containsExactly(0L);
      scheduler.runNext();
      assertThat(scans()).isEqualTo(2);
      assertThat(pendingDelays()).as("one periodic scan, not two").hasSize(1);
    }

    @Test
    void aScanThatHadAlreadyStartedWhenARequestCameDoesNotStartASecondPeriodicChain() {
      start(probePool);
      scheduler.runNext();
      ManualScheduler.Task periodic = scheduler.pending().get(0);

      // The scheduler thread has just taken the periodic scan off its queue when a request comes:
      // cancel(false) cannot stop it any more, so both it and the requested scan run.
      loop.requestScan();
      ManualScheduler.Task requested = scheduler.pending().get(0);
      periodic.runAlthoughCancelled();
      requested.run();

      assertThat(scheduler.pending()).as("exactly one scan scheduled after both").hasSize(1);
      for (int i = 0; i < 5; i++) {
        scheduler.runNext();
        assertThat(scheduler.pending()).hasSize(1);
      }
    }

    @Test
    void aClosedLoopSchedulesNothingMore() {
      start(probePool);
      scheduler.runNext();

      loop.close();
      loop.requestScan();

      assertThat(scheduler.pending()).isEmpty();
    }
  }

  /** The loop on a real single-threaded scheduler against a real server that comes and goes. */
  @Nested
  class RealTime {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stopScheduler() {
      scheduler.shutdownNow();
    }

    @Test
    void aServiceStartedAfterTheLoopIsReportedWithinSecondsAndItsDisappearanceOnRequest()
        throws Exception {
      // A long interval: only the fast retries while empty, and the request, can find the changes.
      loop =
          new DiscoveryLoop(
              scanner(probePool), Duration.ofSeconds(60), scheduler, changes::add, metrics);
      loop.start();
      loop.firstScan().get(5, TimeUnit.SECONDS);
      assertThat(changes).isEmpty();

      Server server = serveTransform("mask-pii");

      // Scans come 1, 2, 4 s apart while nothing is found; a probe of a cold JVM on a loaded
      // machine may miss its 1 s deadline once, leaving the service to the scan after.
      await().atMost(Duration.ofSeconds(20)).until(() -> !changes.isEmpty());
      assertThat(names(changes.get(0))).containsExactly("mask-pii");
      assertThat(changes.get(0).get(0).getEndpoint()).isEqualTo("127.0.0.1:" + port);

      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      loop.requestScan();

      await().atMost(Duration.ofSeconds(10)).until(() -> changes.size() == 2);
      assertThat(changes.get(1)).isEmpty();
      assertThat(loop.current()).isEmpty();
    }
  }

  /** Runs {@code first} once, on the first task submitted, then delegates. */
  private static final class RunFirst extends AbstractExecutorService {
    private final ExecutorService delegate;
    private Runnable first;

    RunFirst(Runnable first, ExecutorService delegate) {
      this.first = first;
      this.delegate = delegate;
    }

    @Override
    public void execute(Runnable command) {
      Runnable hook;
      synchronized (this) {
        hook = first;
        first = null;
      }
      if (hook != null) {
        hook.run();
      }
      delegate.execute(command);
    }

    @Override
    public void shutdown() {
      delegate.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
      return delegate.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
      return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return delegate.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return delegate.awaitTermination(timeout, unit);
    }
  }
}

package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.sidecar.metrics.SidecarMetrics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs discovery at start and periodically after, and reports changes. With native sidecars the
 * sidecar starts before the app, so until a scan first finds a service, scans come every second for
 * about half a minute (a JVM app takes seconds to listen, and each second the pipeline has no
 * instance of its stage costs the source re-sent batches), then back off, doubling up to the
 * configured interval; after a change, while a scan finds nothing, the next comes sooner (every
 * second, doubling). The same holds while a probe runs out of time: a service still warming up (or
 * a sidecar starved of CPU at pod start) may have been missed; services already known on a port
 * whose probe timed out are kept for a few scans ({@link TimeoutGrace}). A scan can also be
 * requested (e.g. when a source pushes before its service was seen); requests are coalesced.
 *
 * <p>The scheduler must be single-threaded and used by this loop alone: scans then never overlap,
 * and a scan requested while one runs is simply the next one.
 */
public final class DiscoveryLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DiscoveryLoop.class);
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  /** Scans at {@link #FIRST_RETRY} while nothing was ever found, before backing off. */
  private static final int STARTUP_FAST_SCANS = 30;

  /** Scans a port may time out in a row before the services it had are dropped. */
  private static final int TIMEOUT_GRACE_SCANS = 3;

  private final PortScanner scanner;
  private final Duration interval;
  private final ScheduledExecutorService scheduler;
  private final Consumer<List<DiscoveredService>> onChange;
  private final SidecarMetrics metrics;

  private volatile List<DiscoveredService> current = List.of();
  private final TimeoutGrace grace = new TimeoutGrace(TIMEOUT_GRACE_SCANS);
  private final CompletableFuture<Void> firstScan = new CompletableFuture<>();
  private Duration retryDelay;
  private boolean everFound;
  private int startupFastScansLeft = STARTUP_FAST_SCANS;
  // Guarded by this. Only the scan holding the latest ticket schedules a successor: a scan that
  // was already running (or about to) when a newer one was scheduled — cancel() cannot stop it —
  // must not start a second periodic chain next to the newer scan's.
  private ScheduledFuture<?> next;
  private long ticket;
  private boolean scanQueued;
  private boolean closed;

  public DiscoveryLoop(
      PortScanner scanner,
      Duration interval,
      ScheduledExecutorService scheduler,
      Consumer<List<DiscoveredService>> onChange,
      SidecarMetrics metrics) {
    this.scanner = scanner;
    this.interval = interval;
    this.retryDelay = firstRetry();
    this.scheduler = scheduler;
    this.onChange = onChange;
    this.metrics = metrics;
  }

  public void start() {
    requestScan();
  }

  /** The services found by the last scan. */
  public List<DiscoveredService> current() {
    return current;
  }

  /** Completes when the first scan finished, whatever it found. */
  public CompletableFuture<Void> firstScan() {
    return firstScan;
  }

  /** Scans as soon as possible, unless a scan is already queued. */
  public synchronized void requestScan() {
    if (closed || scanQueued) {
      return;
    }
    scanQueued = true;
    schedule(0);
  }

  /** Replaces the scheduled scan with one in {@code delayMillis}. Caller holds the lock. */
  private void schedule(long delayMillis) {
    if (next != null) {
      next.cancel(false);
    }
    long mine = ++ticket;
    next = scheduler.schedule(() -> scanOnce(mine), delayMillis, TimeUnit.MILLISECONDS);
  }

  private void scanOnce(long mine) {
    synchronized (this) {
      if (closed || mine != ticket) {
        return; // superseded by a newer scan
      }
      scanQueued = false;
    }
    long started = System.nanoTime();
    Duration delay = interval;
    try {
      PortScanner.Scan scan = scanner.scan();
      List<DiscoveredService> found = grace.services(scan, current);
      metrics.discoveryRuns("ok").increment();
      boolean changed = !found.equals(current);
      if (changed) {
        log.info(
            "discovered {} Conveyor service(s) in {} ms: {}{}",
            found.size(),
            (System.nanoTime() - started) / 1_000_000,
            found.stream()
                .map(
                    s ->
                        s.getDescription().getName()
                            + "@"
                            + s.getEndpoint()
                            + "("
                            + s.getHealth().name().replace("SERVICE_HEALTH_", "")
                            + ")")
                .toList(),
            scan.skipped().isEmpty()
                ? ""
                : "; skipped "
                    + scan.skipped().stream()
                        .map(r -> r.port() + " (" + r.skippedBecause() + ")")
                        .toList());
        List<DiscoveredService> previous = current;
        current = found; // before the listener: it may ask for current() (the next heartbeat)
        try {
          onChange.accept(found);
        } catch (RuntimeException e) {
          current = previous; // so the next scan reports the change again
          throw e;
        }
      }
      if (changed) {
        retryDelay = firstRetry(); // the pod changed (an app restarted?): look again soon
      }
      everFound |= !found.isEmpty();
      if (found.isEmpty() && !everFound && startupFastScansLeft > 0) {
        startupFastScansLeft--;
        delay = firstRetry(); // the app is still starting: look again every second
      } else if (found.isEmpty() || scan.inconclusive()) {
        delay = retryDelay;
        Duration doubled = retryDelay.multipliedBy(2);
        retryDelay = doubled.compareTo(interval) < 0 ? doubled : interval;
      } else {
        retryDelay = firstRetry();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (RuntimeException e) {
      synchronized (this) {
        if (closed) {
          return; // the probe pool was shut down under a running scan: nothing to report
        }
      }
      metrics.discoveryRuns("error").increment();
      log.error("discovery scan failed; next scan in {}", interval, e);
    } finally {
      firstScan.complete(null);
    }
    synchronized (this) {
      if (!closed && mine == ticket) {
        schedule(delay.toMillis());
      }
    }
  }

  private Duration firstRetry() {
    return FIRST_RETRY.compareTo(interval) < 0 ? FIRST_RETRY : interval;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (next != null) {
      next.cancel(true);
    }
  }
}

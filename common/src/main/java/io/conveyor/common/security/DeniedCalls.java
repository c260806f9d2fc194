package io.conveyor.common.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every refused call, and every refused TLS handshake, counted in {@code
 * <prefix>_denied_calls_total} by method and code, and logged once at WARN with who tried what and
 * why. A flood of attempts must not flood the log: at most {@link #MAX_LINES_PER_SECOND} lines a
 * second, and the next line says how many were left out; the counter counts them all.
 */
public final class DeniedCalls {

  private static final Logger log = LoggerFactory.getLogger(DeniedCalls.class);

  /** Log lines a second at most; the metric has every denial. */
  public static final int MAX_LINES_PER_SECOND = 10;

  private static final long SECOND = 1_000_000_000L;

  private final MeterRegistry meters;
  private final String metricName;
  private final LongSupplier nanoTime;
  private final AtomicLong suppressed = new AtomicLong();
  private long windowStart;
  private int linesInWindow;

  /**
   * @param prefix the process's metric prefix ({@code conveyor_router}, {@code conveyor_sidecar})
   */
  public DeniedCalls(MeterRegistry meters, String prefix, LongSupplier nanoTime) {
    this.meters = meters;
    this.metricName = prefix + "_denied_calls";
    this.nanoTime = nanoTime;
    this.windowStart = nanoTime.getAsLong();
  }

  /**
   * Records one refusal.
   *
   * @param method the RPC's method name, or {@code tls-handshake}
   * @param code the status it got ({@code UNAUTHENTICATED}, {@code PERMISSION_DENIED}, or the side
   *     whose certificate a handshake refused)
   * @param caller who tried: an identity URI, or "an unauthenticated caller at ADDRESS"
   * @param reason why, as the caller is told
   */
  public void record(String method, String code, String caller, String reason) {
    counter(method, code).increment();
    long left = admitLine();
    if (left < 0) {
      return;
    }
    if (left > 0) {
      log.warn(
          "denied {} to {} ({}): {} [{} more denials not logged]",
          method,
          caller,
          code,
          reason,
          left);
    } else {
      log.warn("denied {} to {} ({}): {}", method, caller, code, reason);
    }
  }

  /** The counter for one method and code, registered with HELP. */
  public Counter counter(String method, String code) {
    return Counter.builder(metricName)
        .description("Calls and TLS handshakes refused for want of a valid, authorized identity")
        .tag("method", method)
        .tag("code", code)
        .register(meters);
  }

  /** -1 when this line is over the limit; otherwise how many were left out before it. */
  private synchronized long admitLine() {
    long now = nanoTime.getAsLong();
    if (now - windowStart >= SECOND) {
      windowStart = now;
      linesInWindow = 0;
    }
    if (linesInWindow >= MAX_LINES_PER_SECOND) {
      suppressed.incrementAndGet();
      return -1;
    }
    linesInWindow++;
    return suppressed.getAndSet(0);
  }
}

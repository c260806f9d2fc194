package io.conveyor.sidecar.routing;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A nanoTime source the test moves by hand. */
final class FakeNanoClock implements LongSupplier {

  private final AtomicLong now;

  FakeNanoClock(long origin) {
    this.now = new AtomicLong(origin);
  }

  @Override
  public long getAsLong() {
    return now.get();
  }

  void advance(Duration by) {
    now.addAndGet(by.toNanos());
  }
}

package io.conveyor.router.core;

import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.RegisterSidecarResponse;
import io.conveyor.testkit.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Group commit: registrations that arrive while another is being recorded and planned are queued,
 * and that one records and plans them together, so a storm costs fewer re-plans than registrations.
 * Before, each registration recorded itself under the lock and then took the lock again to plan,
 * usually for itself alone: 1,990 re-plans for 2,000 registrations in {@code ./conveyor bench
 * router}.
 */
class RouterCoreGroupCommitTest {

  private static final Duration WARM_UP = Duration.ofMinutes(5);

  @Test
  void registrationsThatQueueWhileTheLockIsHeldArePlannedInOneReplan() throws Exception {
    GateClock clock = new GateClock();
    // A warm-up window makes recording a new sidecar read the clock while holding the lock: the
    // gate holds the first registration there, as a long re-plan would.
    RouterCore core = new RouterCore(clock, RouterSettings.defaults().withWarmUp(WARM_UP));
    core.replacePipelines(List.of(pipeline("orders-etl", "orders", List.of("mask"), "warehouse")));
    core.servingStarted();
    long before = core.replans();

    clock.arm();
    List<Thread> registering = new ArrayList<>();
    List<RegisterSidecarResponse> replies =
        java.util.Collections.synchronizedList(new ArrayList<>());
    registering.add(
        start("first", () -> replies.add(core.register(registration("sc-0", serviceOf(0))))));
    assertThat(clock.entered.await(10, TimeUnit.SECONDS))
        .as("the first registration reads the clock while recording")
        .isTrue();
    for (int i = 1; i < 8; i++) {
      String id = "sc-" + i;
      DiscoveredService service = serviceOf(i);
      registering.add(start(id, () -> replies.add(core.register(registration(id, service)))));
    }
    // Each of the others has queued its registration and, finding the first at work, waits for its
    // reply without taking the lock.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> registering.stream().skip(1).allMatch(t -> t.getState() == Thread.State.WAITING));
    clock.release.countDown();
    for (Thread thread : registering) {
      thread.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(thread.isAlive()).as(thread.getName() + " finished").isFalse();
    }

    assertThat(core.replans() - before).isEqualTo(1);
    assertThat(replies).hasSize(8);
    assertThat(replies).allSatisfy(reply -> assertThat(reply.getRouterInstanceId()).isNotEmpty());
    // Every sidecar was planned with the others: each holds a set naming all of the stages.
    for (int i = 0; i < 8; i++) {
      assertThat(core.assignments("sc-" + i).orElseThrow().getPipelinesList())
          .as("sc-" + i + "'s assignments")
          .hasSize(1);
    }
  }

  private static DiscoveredService serviceOf(int index) {
    return switch (index % 3) {
      case 0 -> source("orders");
      case 1 -> transform("mask");
      default -> sink("warehouse");
    };
  }

  private static Thread start(String name, Runnable work) {
    Thread thread = new Thread(work, name);
    thread.start();
    return thread;
  }

  /**
   * The test's clock, which, once armed, holds the first thread that reads it while recording a
   * queued registration (under the core's lock) until released. Reads from anywhere else, such as a
   * registration's timestamp before it is queued, pass.
   */
  private static final class GateClock extends Clock {
    private final MutableClock time = new MutableClock();
    private final AtomicBoolean armed = new AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    void arm() {
      armed.set(true);
    }

    @Override
    public Instant instant() {
      if (armed.get() && recordingUnderTheLock() && armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return time.instant();
    }

    private static boolean recordingUnderTheLock() {
      return StackWalker.getInstance()
          .walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("recordQueued")));
    }

    @Override
    public ZoneId getZone() {
      return time.getZone();
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}

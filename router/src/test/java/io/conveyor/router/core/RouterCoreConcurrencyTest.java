package io.conveyor.router.core;

import static io.conveyor.router.testing.Fixtures.pipeline;
import static io.conveyor.router.testing.Fixtures.registration;
import static io.conveyor.router.testing.Fixtures.sink;
import static io.conveyor.router.testing.Fixtures.source;
import static io.conveyor.router.testing.Fixtures.transform;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.AssignmentSet;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.testing.RecordingSubscriber;
import io.conveyor.testkit.MutableClock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Pushes are made outside the core's lock, so concurrent changes may reach a watcher out of order
 * (the sidecar drops sets older than the one it applied). What must hold regardless: the newest set
 * always reaches the watcher, and every version handed out is unique.
 */
class RouterCoreConcurrencyTest {

  private static final PipelineDefinition ORDERS =
      pipeline("orders-etl", "orders", List.of("mask-pii", "enrich"), "warehouse");
  private static final int THREADS = 8;
  private static final int OPERATIONS = 60;

  @Test
  void everyWatcherEndsWithTheNewestSetUnderConcurrentChanges() throws Exception {
    RouterCore core = new RouterCore(new MutableClock(), RouterSettings.defaults());
    core.replacePipelines(List.of(ORDERS));
    List<String> observers = List.of("obs-source", "obs-sink");
    List<RecordingSubscriber> watchers = new ArrayList<>();
    List<AssignmentSet> initial = new ArrayList<>();
    core.register(registration("obs-source", source("orders")));
    core.register(registration("obs-sink", sink("warehouse")));
    for (String observer : observers) {
      RecordingSubscriber watcher = new RecordingSubscriber();
      initial.add(core.assignments(observer).orElseThrow());
      core.watch(observer, initial.get(initial.size() - 1).getVersion(), watcher);
      watchers.add(watcher);
    }

    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> work = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      work.add(
          pool.submit(
              () -> {
                Random random = new Random(1000 + thread);
                List<String> mine = new ArrayList<>();
                go.await();
                for (int i = 0; i < OPERATIONS; i++) {
                  if (!mine.isEmpty() && random.nextInt(3) == 0) {
                    core.deregister(mine.remove(random.nextInt(mine.size())));
                  } else {
                    String id = "w" + thread + "-" + i;
                    DiscoveredService service =
                        random.nextBoolean() ? transform("mask-pii") : transform("enrich");
                    core.register(registration(id, service));
                    mine.add(id);
                  }
                }
                return null;
              }));
    }
    go.countDown();
    for (Future<?> f : work) {
      f.get(20, TimeUnit.SECONDS);
    }
    pool.shutdown();

    for (int i = 0; i < observers.size(); i++) {
      AssignmentSet current = core.assignments(observers.get(i)).orElseThrow();
      List<AssignmentSet> received = watchers.get(i).assigns();
      assertThat(received).extracting(AssignmentSet::getVersion).doesNotHaveDuplicates();
      List<AssignmentSet> held = new ArrayList<>(received);
      held.add(initial.get(i)); // a sink's set does not change when transforms come and go
      assertThat(held.stream().max(Comparator.comparingLong(AssignmentSet::getVersion)))
          .as("newest set held by %s", observers.get(i))
          .contains(current);
    }
    assertThat(watchers.get(0).assigns()).as("the source forwards to the transforms").isNotEmpty();
  }
}

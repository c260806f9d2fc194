package io.conveyor.examples.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The CPU figures the benchmarks read from /proc. */
class ManagedProcessTest {

  /** Spins until told to stop: CPU time on a thread of a known name. */
  private static Thread burner(String name, AtomicBoolean stop) {
    Thread thread =
        new Thread(
            () -> {
              long x = 0;
              while (!stop.get()) {
                x += System.nanoTime() % 7;
              }
              if (x == 42) {
                System.out.print(""); // keeps the loop from being optimised away
              }
            },
            name);
    thread.setDaemon(true);
    return thread;
  }

  @Test
  void aThreadsCpuCountsForTheThreadsItsNameStartsWithAndNoOthers() throws Exception {
    long pid = ProcessHandle.current().pid();
    AtomicBoolean stop = new AtomicBoolean();
    Thread burning = burner("cpu-burner-test-1", stop);
    Thread other = burner("other-burner-1", stop);
    burning.start();
    other.start();
    try {
      // At least 300 ms of CPU on each (ticks are 10 ms), however busy the machine is.
      await()
          .atMost(Duration.ofMinutes(1))
          .until(
              () ->
                  ManagedProcess.threadCpuMillis(pid, List.of("cpu-burner-tes")) >= 300
                      && ManagedProcess.threadCpuMillis(pid, List.of("other-burner")) >= 300);
      long burnerCpu = ManagedProcess.threadCpuMillis(pid, List.of("cpu-burner-tes"));
      long both = ManagedProcess.threadCpuMillis(pid, List.of("cpu-burner-tes", "other-burner"));
      // Read after the first name's: were the other thread counted under that name, or not under
      // its own, the sum could not be 300 ms above it.
      assertThat(both)
          .as("both names count both threads; one name only its own")
          .isGreaterThanOrEqualTo(burnerCpu + 300);
      assertThat(ManagedProcess.cpuMillis(pid))
          .as("the process's CPU holds the threads', and more (the JVM's own threads)")
          .isGreaterThan(both);
    } finally {
      stop.set(true);
      burning.join();
      other.join();
    }
    // The kernel drops a thread's task entry once the thread has exited, which can be a moment
    // after join() returns.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(ManagedProcess.threadCpuMillis(pid, List.of("cpu-burner-tes")))
                    .as("a thread that ended takes its time with it")
                    .isZero());
    assertThat(ManagedProcess.threadCpuMillis(pid, List.of("no-such-thread")))
        .as("no thread of that name")
        .isZero();
    assertThat(ManagedProcess.threadCpuMillis(-1, List.of("cpu-burner-tes")))
        .as("no such process")
        .isZero();
  }
}

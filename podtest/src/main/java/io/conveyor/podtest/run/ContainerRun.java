package io.conveyor.podtest.run;

import io.conveyor.podtest.spec.ContainerPlan;
import io.conveyor.podtest.spec.ProbePlan;
import java.time.Instant;
import java.util.Optional;

/** The mutable state of one container of a running pod; guarded by its {@link RunningPod}. */
final class ContainerRun {

  final ContainerPlan plan;
  final String id;
  Process process;
  Instant startedAt;
  int restartCount;
  final CrashBackoff backoff;
  Instant nextStartAt; // set while waiting out a crash back-off
  boolean started;
  boolean ready;
  boolean wanted; // the runner has started it and keeps it running under its restart policy
  Termination lastTermination;
  final ProbeState startup = new ProbeState();
  final ProbeState liveness = new ProbeState();
  final ProbeState readiness = new ProbeState();

  ContainerRun(ContainerPlan plan, String id, CrashBackoff backoff) {
    this.plan = plan;
    this.id = id;
    this.backoff = backoff;
  }

  boolean running() {
    return process != null && process.isAlive();
  }

  ContainerStatus status() {
    return new ContainerStatus(
        plan.name(), running(), started, ready, restartCount, Optional.ofNullable(lastTermination));
  }

  /** Consecutive results of one probe and when it is next due. */
  static final class ProbeState {
    int successes;
    int failures;
    Instant due;
    String lastFailure = "";

    void reset(Instant containerStart, Optional<ProbePlan> plan) {
      successes = 0;
      failures = 0;
      lastFailure = "";
      due = plan.map(p -> containerStart.plus(p.initialDelay())).orElse(null);
    }
  }
}

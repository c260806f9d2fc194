package io.conveyor.podtest.run;

import java.util.Optional;

/** A container's status as a kubelet would report it (a snapshot). */
public record ContainerStatus(
    String name,
    boolean running,
    boolean started,
    boolean ready,
    int restartCount,
    Optional<Termination> lastTermination) {}

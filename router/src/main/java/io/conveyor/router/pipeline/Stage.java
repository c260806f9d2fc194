package io.conveyor.router.pipeline;

/** One stage of a pipeline: its position, the service that executes it and its role. */
public record Stage(int index, String name, StageRole role) {}

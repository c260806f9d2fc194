package io.conveyor.router.pipeline;

import io.conveyor.etl.v1.ServiceType;

/** What a stage does in a pipeline, and which kind of service can execute it. */
public enum StageRole {
  SOURCE(ServiceType.SERVICE_TYPE_SOURCE),
  TRANSFORM(ServiceType.SERVICE_TYPE_TRANSFORM),
  SINK(ServiceType.SERVICE_TYPE_SINK),
  DEAD_LETTER(ServiceType.SERVICE_TYPE_SINK);

  private final ServiceType serviceType;

  StageRole(ServiceType serviceType) {
    this.serviceType = serviceType;
  }

  /** The kind of service that can execute a stage of this role. */
  public ServiceType serviceType() {
    return serviceType;
  }

  public io.conveyor.etl.v1.StageRole toProto() {
    return switch (this) {
      case SOURCE -> io.conveyor.etl.v1.StageRole.STAGE_ROLE_SOURCE;
      case TRANSFORM -> io.conveyor.etl.v1.StageRole.STAGE_ROLE_TRANSFORM;
      case SINK -> io.conveyor.etl.v1.StageRole.STAGE_ROLE_SINK;
      case DEAD_LETTER -> io.conveyor.etl.v1.StageRole.STAGE_ROLE_DEAD_LETTER;
    };
  }
}

package io.conveyor.sidecar.discovery;

import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.grpc.stub.StreamObserver;

/** Minimal user services: they only answer Describe, which is all discovery calls. */
final class ConveyorServices {

  private ConveyorServices() {}

  static TransformServiceGrpc.TransformServiceImplBase transform(String name) {
    return transform(describing(name, ServiceType.SERVICE_TYPE_TRANSFORM));
  }

  static TransformServiceGrpc.TransformServiceImplBase transform(ServiceDescriptor descriptor) {
    return new TransformServiceGrpc.TransformServiceImplBase() {
      @Override
      public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
        responses.onNext(descriptor);
        responses.onCompleted();
      }
    };
  }

  static SinkServiceGrpc.SinkServiceImplBase sink(String name) {
    return sink(describing(name, ServiceType.SERVICE_TYPE_SINK));
  }

  static SinkServiceGrpc.SinkServiceImplBase sink(ServiceDescriptor descriptor) {
    return new SinkServiceGrpc.SinkServiceImplBase() {
      @Override
      public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
        responses.onNext(descriptor);
        responses.onCompleted();
      }
    };
  }

  static SourceServiceGrpc.SourceServiceImplBase source(String name) {
    ServiceDescriptor descriptor = describing(name, ServiceType.SERVICE_TYPE_SOURCE);
    return new SourceServiceGrpc.SourceServiceImplBase() {
      @Override
      public void describe(DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
        responses.onNext(descriptor);
        responses.onCompleted();
      }
    };
  }

  static ServiceDescriptor describing(String name, ServiceType type) {
    return ServiceDescriptor.newBuilder()
        .setName(name)
        .setType(type)
        .setMaxBatchSize(200)
        .setVersion("1.0.0")
        .build();
  }
}

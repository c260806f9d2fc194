package io.conveyor.examples.source;

import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.ExamplesMain;
import io.grpc.stub.StreamObserver;

/**
 * The demo source's {@code conveyor.etl.v1.SourceService}: it only says who it is, so that the
 * sidecar's discovery knows this pod runs source {@code demo-source}. The records themselves go out
 * through {@link RecordPusher}; {@link SourceApp} runs both.
 */
public final class DemoSource extends SourceServiceGrpc.SourceServiceImplBase {

  public static final String DEFAULT_NAME = "demo-source";

  private final ServiceDescriptor descriptor;

  public DemoSource(String name, int maxBatchSize) {
    this.descriptor = Describes.descriptor(name, ServiceType.SERVICE_TYPE_SOURCE, maxBatchSize);
  }

  @Override
  public void describe(
      DescribeRequest request, StreamObserver<ServiceDescriptor> responseObserver) {
    responseObserver.onNext(descriptor);
    responseObserver.onCompleted();
  }

  /**
   * Runs the demo source: {@code java -cp conveyor-examples.jar
   * io.conveyor.examples.source.DemoSource}.
   */
  public static void main(String[] args) {
    ExamplesMain.main(new String[] {"source"});
  }
}

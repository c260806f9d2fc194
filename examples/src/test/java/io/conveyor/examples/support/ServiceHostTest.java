package io.conveyor.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.examples.sink.DemoSink;
import io.conveyor.examples.sink.SinkSettings;
import io.conveyor.examples.source.DemoSource;
import io.conveyor.examples.transform.DemoTransform;
import io.conveyor.examples.transform.TransformSettings;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The example services are served the way discovery expects any user's: health and reflection. */
class ServiceHostTest {

  @Test
  void servesHealthAndReflectionNextToTheServices() throws Exception {
    try (InProcess server =
        InProcess.serve(
            new DemoSource("demo-source", 500),
            new DemoTransform(TransformSettings.defaults()),
            new DemoSink(SinkSettings.defaults()))) {
      CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
      StreamObserver<ServerReflectionRequest> requests =
          ServerReflectionGrpc.newStub(server.channel())
              .serverReflectionInfo(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                      answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                      answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                  });
      requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      List<String> services =
          answer.get(5, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
              .map(ServiceResponse::getName)
              .toList();
      requests.onCompleted();
      assertThat(services)
          .contains(
              "conveyor.etl.v1.SourceService",
              "conveyor.etl.v1.TransformService",
              "conveyor.etl.v1.SinkService",
              "grpc.health.v1.Health",
              "grpc.reflection.v1.ServerReflection");

      var health = HealthGrpc.newBlockingStub(server.channel());
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(
              health
                  .check(
                      HealthCheckRequest.newBuilder()
                          .setService("conveyor.etl.v1.SinkService")
                          .build())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
    }
  }
}

package io.conveyor.sidecar.dataplane;

import static io.conveyor.sidecar.dataplane.TestSidecar.assignment;
import static io.conveyor.sidecar.dataplane.TestSidecar.batch;
import static io.conveyor.sidecar.dataplane.TestSidecar.delivery;
import static io.conveyor.sidecar.dataplane.TestSidecar.pipeline;
import static io.conveyor.sidecar.dataplane.TestSidecar.stage;
import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.etl.v1.StageRole;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batches over MAX_MESSAGE_BYTES, on a real port with the transport limit the sidecar sets: up to
 * twice the limit the sidecar refuses them with RESOURCE_EXHAUSTED naming the limit; past that the
 * transport resets the stream (CANCELLED, grpc/grpc-java#11245). Either way nothing reaches the
 * sink, and the sidecar keeps serving: the next stream is ready, and a batch that fits arrives.
 */
class OversizeBatchTest {

  @ParameterizedTest
  @ValueSource(ints = {98_000, 197_000, 500_000, 3_000_000})
  void aBatchOverTheLimitIsRefusedAndTheSidecarKeepsServing(int bytes) throws Exception {
    TestSidecar sidecar = new TestSidecar("sidecar-a", Map.of("MAX_MESSAGE_BYTES", "64Ki"));
    FakeStages.Sink sink = new FakeStages.Sink("store");
    String sinkEndpoint = sidecar.stage("a-sink", sink);
    sidecar.services(TestSidecar.source("orders"), TestSidecar.sink("store", sinkEndpoint));
    sidecar.assign(
        assignment(
            1,
            pipeline(
                "etl",
                delivery(100, 3),
                stage(0, "orders", StageRole.STAGE_ROLE_SOURCE, sidecar, sidecar),
                stage(1, "store", StageRole.STAGE_ROLE_SINK, sidecar, sidecar))));
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(DataPlane.transportMessageLimit(64 * 1024))
            .addService(sidecar.plane.service())
            .build()
            .start();
    ManagedChannel tcp =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      PushClient client = new PushClient(tcp).init("etl", "orders");
      assertThat(client.next().getReady().getMaxMessageBytes()).isEqualTo(64 * 1024);
      client.send(batch("huge", 0, 10, bytes / 10));
      Status status = client.awaitClosed();
      if (bytes <= 2 * 64 * 1024) {
        assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(status.getDescription()).contains("huge").contains("MAX_MESSAGE_BYTES of 65536");
      } else {
        assertThat(status.getCode()).isEqualTo(Status.Code.CANCELLED);
      }
      assertThat(sink.calls.get()).isZero();

      PushClient next = new PushClient(tcp).init("etl", "orders");
      assertThat(next.next().hasReady()).isTrue();
      next.send(batch("fits", 0, 10, 1_000));
      assertThat(next.nextAck().getAck().getBatchId()).isEqualTo("fits");
      assertThat(sink.written).hasSize(10);
    } finally {
      tcp.shutdownNow();
      server.shutdownNow();
      sidecar.close();
    }
  }
}

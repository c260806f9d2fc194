package io.conveyor.examples.bench.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MeshProxyConfigTest {

  private static final MeshTlsFiles TLS =
      new MeshTlsFiles(Path.of("/m/ca.pem"), Path.of("/m/pod-b-proxy.pem"));

  @Test
  void anInboundProxyRequiresAPeerCertificateOnItsListenerAndSpeaksH2cToItsApplication() {
    String config =
        MeshProxyConfig.inbound("proxy-b", 2, 20_001, 20_002, Optional.of(TLS)).render();

    assertThat(config)
        .contains(
            "bind 127.0.0.1:20001 ssl crt /m/pod-b-proxy.pem ca-file /m/ca.pem verify required"
                + " alpn h2\n")
        .contains("server upstream 127.0.0.1:20002 proto h2\n")
        .contains("nbthread 2\n")
        .contains("ssl-min-ver TLSv1.3")
        .doesNotContain("\n  log ");
  }

  @Test
  void anOutboundProxyVerifiesThePeerProxyAgainstTheMeshRootAndPresentsItsOwnCertificate() {
    String config =
        MeshProxyConfig.outbound("proxy-a", 2, 20_003, 20_001, Optional.of(TLS)).render();

    assertThat(config)
        .contains("bind 127.0.0.1:20003 proto h2\n")
        .contains(
            "server upstream 127.0.0.1:20001 ssl crt /m/pod-b-proxy.pem ca-file /m/ca.pem verify"
                + " required alpn h2\n");
  }

  @Test
  void refusesTlsOnBothSidesAndOutOfRangeValuesWithTheirNames() {
    assertThatThrownBy(
            () ->
                new MeshProxyConfig(
                    "proxy-a", 2, 20_000, 20_001, Optional.of(TLS), Optional.of(TLS)))
        .hasMessageContaining("h2c");
    assertThatThrownBy(() -> MeshProxyConfig.inbound("proxy-b", 0, 1, 2, Optional.empty()))
        .hasMessageContaining("threads");
    assertThatThrownBy(() -> MeshProxyConfig.inbound("proxy-b", 2, 70_000, 2, Optional.empty()))
        .hasMessageContaining("listenPort");
    assertThatThrownBy(() -> MeshProxyConfig.inbound("Proxy B", 2, 1, 2, Optional.empty()))
        .hasMessageContaining("proxy name");
  }
}

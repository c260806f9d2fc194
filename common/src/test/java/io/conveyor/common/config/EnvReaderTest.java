package io.conveyor.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvReaderTest {

  enum Mode {
    NATIVE,
    REGULAR_CONTAINER
  }

  @Test
  void absentAndBlankValuesTakeTheDefault() {
    EnvReader env = new EnvReader(Map.of("BLANK", "  "));
    assertThat(env.port("GRPC_PORT", 9091)).isEqualTo(9091);
    assertThat(env.string("BLANK", "d")).isEqualTo("d");
    assertThat(env.bool("FLAG", true)).isTrue();
    assertThat(env.hostPort("EP", "localhost:50051")).isEqualTo(new HostPort("localhost", 50051));
    env.validate();
  }

  @Test
  void parsesEveryType() {
    EnvReader env =
        new EnvReader(
            Map.of(
                "P", "8080",
                "S", "30",
                "B", "64Mi",
                "F", "TRUE",
                "E", "regular-container",
                "H", "dns:///router.ns.svc:50051",
                "V6", "[::1]:9000"));
    assertThat(env.port("P", 1)).isEqualTo(8080);
    assertThat(env.seconds("S", Duration.ZERO, 1, 60)).isEqualTo(Duration.ofSeconds(30));
    assertThat(env.bytes("B", 0, 0, Long.MAX_VALUE)).isEqualTo(64L << 20);
    assertThat(env.bool("F", false)).isTrue();
    assertThat(env.enumValue("E", Mode.NATIVE, Mode.class)).isEqualTo(Mode.REGULAR_CONTAINER);
    assertThat(env.hostPort("H", "x:1")).isEqualTo(new HostPort("router.ns.svc", 50051));
    assertThat(env.hostPort("V6", "x:1").toString()).isEqualTo("[::1]:9000");
    env.validate();
  }

  @Test
  void everyMalformedValueIsReportedWithItsNameAndWhatIsAccepted() {
    EnvReader env =
        new EnvReader(
            Map.of(
                "GRPC_PORT", "70000",
                "HEARTBEAT_INTERVAL_SECS", "soon",
                "CLUSTER_ENDPOINT", "no-port",
                "FLAG", "yes",
                "SIZE", "12 parsecs"));
    env.port("GRPC_PORT", 9091);
    env.seconds("HEARTBEAT_INTERVAL_SECS", Duration.ofSeconds(5), 1, 3600);
    env.hostPort("CLUSTER_ENDPOINT", "localhost:50051");
    env.bool("FLAG", false);
    env.bytes("SIZE", 1, 1, 100);

    assertThatThrownBy(env::validate)
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              ConfigException ce = (ConfigException) e;
              assertThat(ce.problems()).hasSize(5);
              assertThat(ce.problems())
                  .anySatisfy(
                      p -> assertThat(p).contains("GRPC_PORT='70000'").contains("1 to 65535"))
                  .anySatisfy(p -> assertThat(p).contains("HEARTBEAT_INTERVAL_SECS='soon'"))
                  .anySatisfy(p -> assertThat(p).contains("CLUSTER_ENDPOINT").contains("host:port"))
                  .anySatisfy(p -> assertThat(p).contains("FLAG='yes'").contains("true or false"))
                  .anySatisfy(p -> assertThat(p).contains("SIZE='12 parsecs'").contains("64Mi"));
            });
  }

  @Test
  void anIpAddressIsALiteralNeverANameNorAnAddressWithAPort() {
    EnvReader env =
        new EnvReader(
            Map.of(
                "V4", "10.1.2.3",
                "V6", "fd00::1",
                "NAME", "localhost",
                "WITH_PORT", "127.0.0.1:80",
                "BRACKETS", "[::1]",
                "OCTET", "10.1.2.256"));
    String accepted = "an IP address to listen on, e.g. 0.0.0.0";

    assertThat(env.ipAddress("V4", "0.0.0.0", accepted)).isEqualTo("10.1.2.3");
    assertThat(env.ipAddress("V6", "0.0.0.0", accepted)).isEqualTo("fd00::1");
    assertThat(env.ipAddress("ABSENT", "0.0.0.0", accepted)).isEqualTo("0.0.0.0");
    for (String bad : List.of("NAME", "WITH_PORT", "BRACKETS", "OCTET")) {
      env.ipAddress(bad, "0.0.0.0", accepted);
    }
    assertThatThrownBy(env::validate)
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "NAME='localhost' is not valid: expected " + accepted,
                        "WITH_PORT='127.0.0.1:80' is not valid: expected " + accepted,
                        "BRACKETS='[::1]' is not valid: expected " + accepted,
                        "OCTET='10.1.2.256' is not valid: expected " + accepted));
  }

  @Test
  void sizesAcceptBinarySuffixes() {
    assertThat(EnvReader.parseBytes("1048576")).isEqualTo(1 << 20);
    assertThat(EnvReader.parseBytes("512Ki")).isEqualTo(512 << 10);
    assertThat(EnvReader.parseBytes("2GiB")).isEqualTo(2L << 30);
    assertThatThrownBy(() -> EnvReader.parseBytes("-1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

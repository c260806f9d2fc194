package io.conveyor.common.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * gRPC's transport logs through java.util.logging (an oversized message, for one, is reported as a
 * WARNING with a stack trace). In a real process with {@code LOG_FORMAT=json}, that record must
 * come out as one JSON line like every other, not as the JDK's two-line text on stderr.
 */
class JulRoutingTest {

  static final String TRANSPORT_LOGGER = "io.grpc.netty.shaded.io.grpc.netty.NettyServerStream";

  /** The child process: configures logging as a Conveyor binary does, then logs through JUL. */
  public static final class Child {
    public static void main(String[] args) {
      LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
      context.reset();
      LogConfigurator.apply(context, Map.of("LOG_FORMAT", "json"), System.err);
      Logger.getLogger(TRANSPORT_LOGGER)
          .log(
              Level.WARNING,
              "Exception processing message",
              new IllegalStateException("RESOURCE_EXHAUSTED: gRPC message exceeds maximum size"));
      Logger.getLogger(TRANSPORT_LOGGER).fine("connection detail nobody acts on");
    }
  }

  @Test
  void javaUtilLoggingRecordsComeOutInTheConfiguredJsonFormat() throws Exception {
    Process child = startChild();
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("child exited").isTrue();
    List<String> out =
        new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(child.exitValue()).as("exit code; stderr: %s", err).isZero();
    assertThat(out).as("stdout").isNotEmpty().allMatch(l -> l.startsWith("{") && l.endsWith("}"));
    assertThat(out)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("\"level\":\"WARN\"")
                    .contains("\"loggerName\":\"" + TRANSPORT_LOGGER + "\"")
                    .contains("Exception processing message")
                    .contains("gRPC message exceeds maximum size"));
    assertThat(String.join("\n", out)).doesNotContain("connection detail nobody acts on");
    assertThat(err).as("nothing printed by the JDK's own console handler").isEmpty();
  }

  private static Process startChild() throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
            java, "-cp", System.getProperty("java.class.path"), Child.class.getName());
    builder.environment().remove("LOG_FORMAT");
    return builder.start();
  }
}

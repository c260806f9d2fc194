package io.conveyor.common.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogConfiguratorTest {

  private final ByteArrayOutputStream warnings = new ByteArrayOutputStream();

  @Test
  void defaultsAreInfoAndTextWithTheMdcOnEveryLine() {
    LoggerContext context = configure(Map.of());

    assertThat(root(context).getLevel()).isEqualTo(Level.INFO);
    assertThat(context.getLogger("io.grpc.netty.shaded").getLevel()).isEqualTo(Level.WARN);
    String line = encode(context, Map.of("pipeline", "orders", "stage", "mask"));
    assertThat(line)
        .matches("\\d{4}-\\d\\d-\\d\\dT\\S+ INFO  \\[main\\] i\\.c\\.sidecar\\.Routing .*\\n")
        .contains("pipeline=orders", "stage=mask", "batch failed");
    assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void jsonFormatPrintsOneObjectPerLineWithTheMdc() {
    LoggerContext context = configure(Map.of("LOG_LEVEL", "debug", "LOG_FORMAT", "JSON"));

    assertThat(root(context).getLevel()).isEqualTo(Level.DEBUG);
    String line = encode(context, Map.of("pipeline", "orders"));
    assertThat(line.strip()).startsWith("{").endsWith("}").doesNotContain("\n");
    assertThat(line)
        .contains(
            "\"level\":\"INFO\"",
            "\"pipeline\":\"orders\"",
            "\"formattedMessage\":\"batch failed\"");
  }

  @Test
  void badValuesAreNamedAndTheDefaultsUsed() {
    LoggerContext context = configure(Map.of("LOG_LEVEL", "loud", "LOG_FORMAT", "yaml"));

    assertThat(root(context).getLevel()).isEqualTo(Level.INFO);
    assertThat(encode(context, Map.of())).contains("INFO  [main]");
    assertThat(warnings.toString(StandardCharsets.UTF_8))
        .contains("LOG_LEVEL='loud' is not valid: expected one of TRACE, DEBUG, INFO")
        .contains("LOG_FORMAT='yaml' is not valid: expected text or json; using text");
  }

  private LoggerContext configure(Map<String, String> env) {
    LoggerContext context = new LoggerContext();
    LogConfigurator.apply(context, env, new PrintStream(warnings, true, StandardCharsets.UTF_8));
    return context;
  }

  private static ch.qos.logback.classic.Logger root(LoggerContext context) {
    return context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** What the configured console appender's encoder makes of one INFO event. */
  private static String encode(LoggerContext context, Map<String, String> mdc) {
    ch.qos.logback.classic.Logger logger = context.getLogger("io.conveyor.sidecar.Routing");
    LoggingEvent event =
        new LoggingEvent(
            LogConfiguratorTest.class.getName(), logger, Level.INFO, "batch failed", null, null);
    event.setThreadName("main");
    event.setMDCPropertyMap(mdc);
    @SuppressWarnings("unchecked")
    OutputStreamAppender<ILoggingEvent> console =
        (OutputStreamAppender<ILoggingEvent>) root(context).iteratorForAppenders().next();
    return new String(console.getEncoder().encode(event), StandardCharsets.UTF_8);
  }
}

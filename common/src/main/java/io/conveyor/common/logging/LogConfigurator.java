package io.conveyor.common.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Logging of every Conveyor binary, configured in code: {@code LOG_LEVEL} sets the root level
 * (default INFO), {@code LOG_FORMAT} picks {@code text} (default) or {@code json}; the MDC
 * (pipeline, stage, sidecar, resource) is printed with every line in both formats.
 *
 * <p>In code rather than in a logback.xml because parsing XML loads about 450 classes (Joran, its
 * model, the JDK's XML parser) into every process, the sidecar included, whose memory budget is
 * tight. A {@code logback.xml} or {@code logback-test.xml} on the class path, or {@code
 * -Dlogback.configurationFile}, still wins: this configurator then steps aside.
 *
 * <p>Libraries that log through {@code java.util.logging} — gRPC's transport among them, which
 * reports a refused oversized message with a stack trace — are routed into the same appender, so
 * that {@code LOG_FORMAT=json} holds for every line the process prints.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  static final String TEXT_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24} %X %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    ClassLoader loader = LogConfigurator.class.getClassLoader();
    boolean configuredElsewhere =
        System.getProperty("logback.configurationFile") != null
            || loader.getResource("logback-test.xml") != null
            || loader.getResource("logback.xml") != null;
    if (configuredElsewhere) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    apply(context, System.getenv(), System.err);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Configures {@code context} from {@code env}; a bad value is named on {@code warnings}. */
  static void apply(LoggerContext context, Map<String, String> env, PrintStream warnings) {
    context.getStatusManager().add(new NopStatusListener()); // logback's chatter is not for users
    routeJavaUtilLogging(context);
    Level level = level(env.get("LOG_LEVEL"), warnings);
    boolean json = json(env.get("LOG_FORMAT"), warnings);

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName(json ? "json" : "text");
    console.setEncoder(json ? jsonEncoder(context) : textEncoder(context));
    console.start();

    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(level);
    root.addAppender(console);
    // gRPC's shaded Netty logs connection-level detail at INFO that operators never act on.
    context.getLogger("io.grpc.netty.shaded").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
  }

  /**
   * Sends java.util.logging records to SLF4J. The level propagator mirrors logback's levels onto
   * the JUL loggers, so that a record logback would drop is not even built (JUL's default handler
   * would otherwise format every FINE record gRPC emits, only to discard it).
   */
  private static void routeJavaUtilLogging(LoggerContext context) {
    LevelChangePropagator propagator = new LevelChangePropagator();
    propagator.setContext(context);
    propagator.setResetJUL(true);
    propagator.start();
    context.addListener(propagator);
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger(); // the JDK's console handler, plain text
      SLF4JBridgeHandler.install();
    }
  }

  private static Level level(String value, PrintStream warnings) {
    if (value == null || value.isBlank()) {
      return Level.INFO;
    }
    Level level = Level.toLevel(value.trim(), null);
    if (level == null) {
      warnings.printf(
          "LOG_LEVEL='%s' is not valid: expected one of TRACE, DEBUG, INFO, WARN, ERROR, OFF;"
              + " using INFO%n",
          value);
      return Level.INFO;
    }
    return level;
  }

  private static boolean json(String value, PrintStream warnings) {
    String format = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    if (format.equals("json")) {
      return true;
    }
    if (!format.isEmpty() && !format.equals("text")) {
      warnings.printf("LOG_FORMAT='%s' is not valid: expected text or json; using text%n", value);
    }
    return false;
  }

  private static Encoder<ILoggingEvent> textEncoder(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(TEXT_PATTERN);
    encoder.start();
    return encoder;
  }

  private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false); // the logger context's name and birth time, on every line
    // The message as a reader wants it, not the template and its arguments apart.
    encoder.setWithFormattedMessage(true);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.start();
    return encoder;
  }
}

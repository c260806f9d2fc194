package io.conveyor.common.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads typed settings from a map of environment variables, once, at start.
 *
 * <p>Every getter returns the default when the variable is absent or blank. A malformed value is
 * recorded as a problem naming the variable, the value and what is accepted, and the default is
 * returned so that reading can continue; {@link #validate()} then fails with all problems at once.
 * Configuration records call {@code validate()} at the end of their {@code fromEnv} factory, so a
 * bad value stops the process at start with one clear line.
 */
public final class EnvReader {

  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
  private static final Pattern QUANTITY =
      Pattern.compile("(\\d+)\\s*(|k|K|Ki|M|Mi|G|Gi|KB|MB|GB|KiB|MiB|GiB|B)");

  private final Map<String, String> env;
  private final List<String> problems = new ArrayList<>();

  public EnvReader(Map<String, String> env) {
    this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }

  /** The raw value, or empty when the variable is absent or blank. */
  public Optional<String> raw(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
  }

  public String string(String name, String defaultValue) {
    return raw(name).orElse(defaultValue);
  }

  /** A string that must match {@code pattern}; {@code accepted} describes it in the error. */
  public String matching(String name, String defaultValue, Pattern pattern, String accepted) {
    return parse(
        name,
        defaultValue,
        value -> {
          if (!pattern.matcher(value).matches()) {
            throw new IllegalArgumentException("not " + accepted);
          }
          return value;
        },
        accepted);
  }

  /**
   * An IP address literal (IPv4, or IPv6 without brackets), never a name: a listener's address
   * ({@code BIND_ADDRESS}) is known at start, with no DNS lookup.
   */
  public String ipAddress(String name, String defaultValue, String accepted) {
    Optional<String> value = raw(name);
    if (value.isEmpty()) {
      return defaultValue;
    }
    if (isIpLiteral(value.get())) {
      return value.get();
    }
    problem(name + "='" + value.get() + "' is not valid: expected " + accepted);
    return defaultValue;
  }

  /** Whether {@code value} is an IPv4 or (bracketless) IPv6 literal; never asks DNS. */
  public static boolean isIpLiteral(String value) {
    if (IPV4.matcher(value).matches()) {
      return true;
    }
    if (!value.contains(":") || !IPV6_CHARS.matcher(value).matches()) {
      return false;
    }
    try {
      // With a ':' in it the JDK parses an IPv6 literal and never asks DNS.
      InetAddress.getByName(value);
      return true;
    } catch (UnknownHostException | IllegalArgumentException e) {
      return false;
    }
  }

  public int port(String name, int defaultValue) {
    return integer(name, defaultValue, 1, 65_535);
  }

  public int integer(String name, int defaultValue, int min, int max) {
    return parse(
        name,
        defaultValue,
        value -> {
          int parsed = Integer.parseInt(value);
          if (parsed < min || parsed > max) {
            throw new IllegalArgumentException("out of range");
          }
          return parsed;
        },
        "an integer from " + min + " to " + max);
  }

  public long longValue(String name, long defaultValue, long min, long max) {
    return parse(
        name,
        defaultValue,
        value -> {
          long parsed = Long.parseLong(value);
          if (parsed < min || parsed > max) {
            throw new IllegalArgumentException("out of range");
          }
          return parsed;
        },
        "an integer from " + min + " to " + max);
  }

  /** A whole number of seconds, as a Duration. */
  public Duration seconds(String name, Duration defaultValue, long minSeconds, long maxSeconds) {
    return Duration.ofSeconds(longValue(name, defaultValue.toSeconds(), minSeconds, maxSeconds));
  }

  /** A whole number of milliseconds, as a Duration. */
  public Duration millis(String name, Duration defaultValue, long minMillis, long maxMillis) {
    return Duration.ofMillis(longValue(name, defaultValue.toMillis(), minMillis, maxMillis));
  }

  /** A size in bytes: {@code 1048576}, {@code 64Mi}, {@code 64MiB}, {@code 1G} (powers of 1024). */
  public long bytes(String name, long defaultValue, long min, long max) {
    String accepted =
        "a size from " + min + " to " + max + " bytes, e.g. 1048576, 512Ki, 64Mi, 1Gi";
    return parse(
        name,
        defaultValue,
        value -> {
          long parsed = parseBytes(value);
          if (parsed < min || parsed > max) {
            throw new IllegalArgumentException("out of range");
          }
          return parsed;
        },
        accepted);
  }

  public boolean bool(String name, boolean defaultValue) {
    return parse(
        name,
        defaultValue,
        value ->
            switch (value.toLowerCase(Locale.ROOT)) {
              case "true" -> true;
              case "false" -> false;
              default -> throw new IllegalArgumentException("not a boolean");
            },
        "true or false");
  }

  public HostPort hostPort(String name, String defaultValue) {
    return parse(
        name,
        HostPort.parse(defaultValue),
        HostPort::parse,
        "host:port, e.g. conveyor-router.conveyor-system.svc:50051");
  }

  public <E extends Enum<E>> E enumValue(String name, E defaultValue, Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase(Locale.ROOT));
    }
    return parse(
        name,
        defaultValue,
        value -> Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_')),
        "one of " + String.join(", ", names));
  }

  /** Records a problem found by a check that spans several variables. */
  public void problem(String message) {
    problems.add(message);
  }

  public List<String> problems() {
    return List.copyOf(problems);
  }

  /** Throws a {@link ConfigException} listing every problem found so far, if any. */
  public void validate() {
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  private <T> T parse(String name, T defaultValue, Function<String, T> parser, String accepted) {
    Optional<String> value = raw(name);
    if (value.isEmpty()) {
      return defaultValue;
    }
    try {
      return parser.apply(value.get());
    } catch (RuntimeException e) {
      problems.add(name + "='" + value.get() + "' is not valid: expected " + accepted);
      return defaultValue;
    }
  }

  /** Parses a byte quantity with an optional binary suffix. */
  public static long parseBytes(String text) {
    Matcher m = QUANTITY.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a size");
    }
    long number = Long.parseLong(m.group(1));
    long unit =
        switch (m.group(2)) {
          case "", "B" -> 1L;
          case "k", "K", "Ki", "KB", "KiB" -> 1L << 10;
          case "M", "Mi", "MB", "MiB" -> 1L << 20;
          case "G", "Gi", "GB", "GiB" -> 1L << 30;
          default -> throw new IllegalArgumentException("unknown unit " + m.group(2));
        };
    return Math.multiplyExact(number, unit);
  }
}

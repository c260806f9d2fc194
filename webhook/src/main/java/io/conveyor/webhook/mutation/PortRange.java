package io.conveyor.webhook.mutation;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An inclusive range of TCP ports, written {@code start-end}. */
public record PortRange(int start, int end) {

  private static final Pattern FORM = Pattern.compile("(\\d{1,5})-(\\d{1,5})");

  public PortRange {
    if (start < 1 || end > 65_535 || start > end) {
      throw new IllegalArgumentException(
          "port range " + start + "-" + end + " is not within 1-65535 with start <= end");
    }
  }

  /**
   * Parses {@code 50051-50060}.
   *
   * @throws IllegalArgumentException when the text is not of that form or out of range
   */
  public static PortRange parse(String text) {
    Matcher m = FORM.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not start-end");
    }
    return new PortRange(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
  }

  /** How many ports the range holds. */
  public int size() {
    return end - start + 1;
  }

  @Override
  public String toString() {
    return start + "-" + end;
  }
}

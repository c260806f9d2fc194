package io.conveyor.examples.local;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads top-level numeric fields of the flat JSON documents the example apps serve on /stats. */
public final class JsonFields {

  private JsonFields() {}

  public static OptionalLong number(String json, String field) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\"\\s*:\\s*(-?\\d+)").matcher(json);
    return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  public static long numberOr(String json, String field, long fallback) {
    return number(json, field).orElse(fallback);
  }
}

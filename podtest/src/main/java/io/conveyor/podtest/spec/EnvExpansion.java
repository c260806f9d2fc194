package io.conveyor.podtest.spec;

import java.util.Map;

/**
 * The kubelet's {@code $(VAR)} expansion in env values, command and args: a reference to a variable
 * defined earlier is replaced, {@code $$} is a literal {@code $}, anything else is left as written.
 */
public final class EnvExpansion {

  private EnvExpansion() {}

  public static String expand(String input, Map<String, String> defined) {
    StringBuilder out = new StringBuilder(input.length());
    int i = 0;
    while (i < input.length()) {
      char ch = input.charAt(i);
      if (ch != '$' || i + 1 >= input.length()) {
        out.append(ch);
        i++;
        continue;
      }
      char next = input.charAt(i + 1);
      if (next == '$') {
        out.append('$');
        i += 2;
      } else if (next == '(') {
        int close = input.indexOf(')', i + 2);
        if (close < 0) {
          out.append(input, i, input.length());
          break;
        }
        String name = input.substring(i + 2, close);
        String value = defined.get(name);
        out.append(value != null ? value : input.substring(i, close + 1));
        i = close + 1;
      } else {
        out.append(ch);
        i++;
      }
    }
    return out.toString();
  }
}

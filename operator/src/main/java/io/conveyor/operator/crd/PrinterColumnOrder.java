package io.conveyor.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts the generated CRDs' printer columns in the order the classes declare them. The fabric8 CRD
 * generator sorts them by JSON path, and kubectl prints them in file order, so {@code kubectl get
 * conveyorsidecars} would start with AGE and LAST HEARTBEAT. The build runs this on {@code
 * target/crds} right after generating; only the order of the column entries changes.
 */
public final class PrinterColumnOrder {

  private static final List<Class<? extends CustomResource<?, ?>>> RESOURCES =
      List.of(ConveyorSidecar.class, Pipeline.class);
  private static final Pattern NAME = Pattern.compile("^\\s*(?:- )?name: \"(.*)\"$");

  private PrinterColumnOrder() {}

  /** Rewrites the CRD files of {@code args[0]} (the generator's output directory). */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    for (Class<? extends CustomResource<?, ?>> resource : RESOURCES) {
      Path file = dir.resolve(CustomResource.getCRDName(resource) + "-v1.yml");
      Files.writeString(file, reorder(Files.readString(file), declaredColumns(resource)));
    }
  }

  /** The names of the class's printer columns, in declaration order. */
  static List<String> declaredColumns(Class<?> resource) {
    return Arrays.stream(resource.getAnnotationsByType(AdditionalPrinterColumn.class))
        .map(AdditionalPrinterColumn::name)
        .toList();
  }

  /**
   * Reorders the entries of every {@code additionalPrinterColumns} list of {@code yaml} (as the
   * generator writes it: one entry per {@code - } item, its fields indented under it) to follow
   * {@code order}.
   *
   * @throws IllegalArgumentException for a column {@code order} does not name
   */
  static String reorder(String yaml, List<String> order) {
    List<String> lines = yaml.lines().toList();
    List<String> out = new ArrayList<>(lines.size());
    int i = 0;
    while (i < lines.size()) {
      String line = lines.get(i++);
      out.add(line);
      int key = line.indexOf("additionalPrinterColumns:");
      if (key < 0) {
        continue;
      }
      String item = " ".repeat(key) + "- ";
      String field = " ".repeat(key + 2);
      List<List<String>> entries = new ArrayList<>();
      while (i < lines.size()
          && (lines.get(i).startsWith(item) || lines.get(i).startsWith(field))) {
        if (lines.get(i).startsWith(item)) {
          entries.add(new ArrayList<>());
        }
        entries.get(entries.size() - 1).add(lines.get(i++));
      }
      entries.sort(Comparator.comparingInt(entry -> position(entry, order)));
      entries.forEach(out::addAll);
    }
    return String.join("\n", out) + (yaml.endsWith("\n") ? "\n" : "");
  }

  private static int position(List<String> entry, List<String> order) {
    for (String line : entry) {
      Matcher name = NAME.matcher(line);
      if (name.matches()) {
        int position = order.indexOf(name.group(1));
        if (position < 0) {
          throw new IllegalArgumentException(
              "printer column '" + name.group(1) + "' is not among " + order);
        }
        return position;
      }
    }
    throw new IllegalArgumentException("a printer column without a name: " + entry);
  }
}

package io.conveyor.images;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -cp conveyor-images.jar io.conveyor.images.UnpackMain IMAGE.tar ROOTFS}: unpacks the
 * image's layers into ROOTFS (root needed for owners; see {@link RootfsUnpacker}) and prints its
 * entrypoint, one argument per line, for a run inside that root filesystem ({@code ./conveyor
 * images} trains the sidecar's class archive that way). Exit codes: 0 unpacked, 2 bad arguments or
 * an image it cannot use.
 */
public final class UnpackMain {

  static final String USAGE = "usage: UnpackMain IMAGE.tar ROOTFS";

  private UnpackMain() {}

  public static void main(String[] args) throws Exception {
    try {
      run(args, System.out);
    } catch (IllegalArgumentException e) {
      System.err.println("conveyor-images: " + e.getMessage());
      System.exit(2);
    }
  }

  static void run(String[] args, PrintStream out) throws Exception {
    if (args.length != 2) {
      throw new IllegalArgumentException(USAGE);
    }
    try (DockerArchive image = DockerArchive.open(Path.of(args[0]))) {
      List<String> entrypoint = entrypoint(image.runtimeConfig());
      RootfsUnpacker.unpackLayers(image, Path.of(args[1]), 0);
      entrypoint.forEach(out::println);
    }
  }

  static List<String> entrypoint(JsonNode runtime) {
    List<String> entrypoint = new ArrayList<>();
    runtime.path("Entrypoint").forEach(a -> entrypoint.add(a.asText()));
    if (entrypoint.isEmpty() || entrypoint.stream().anyMatch(a -> a.contains("\n"))) {
      throw new IllegalArgumentException("no entrypoint one line per argument can say: " + runtime);
    }
    return entrypoint;
  }
}

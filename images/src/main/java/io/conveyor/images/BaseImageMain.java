package io.conveyor.images;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar conveyor-images.jar LAYER.tar OUT.tar NAME:TAG [--user U:G] [--workdir DIR]
 * [--env NAME=value]... [--created-by TEXT]}: writes the base image ./conveyor images uses for
 * tests (see {@link DockerArchiveWriter}). Exit codes: 0 written, 2 bad arguments or input.
 */
public final class BaseImageMain {

  static final String USAGE =
      "usage: conveyor-images LAYER.tar OUT.tar NAME:TAG [--user UID:GID] [--workdir DIR]"
          + " [--env NAME=value]... [--created-by TEXT]";

  private BaseImageMain() {}

  public static void main(String[] args) throws Exception {
    try {
      DockerArchiveWriter.Written written = run(args);
      System.out.println(written.imageId());
    } catch (IllegalArgumentException e) {
      System.err.println("conveyor-images: " + e.getMessage());
      System.exit(2);
    }
  }

  static DockerArchiveWriter.Written run(String[] args) throws Exception {
    List<String> positional = new ArrayList<>();
    String user = "65532:65532";
    String workdir = "/";
    String createdBy = "conveyor-images";
    List<String> env = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.startsWith("--")) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(arg + " needs a value. " + USAGE);
        }
        String value = args[++i];
        switch (arg) {
          case "--user" -> user = value;
          case "--workdir" -> workdir = value;
          case "--env" -> env.add(value);
          case "--created-by" -> createdBy = value;
          default -> throw new IllegalArgumentException("unknown option " + arg + ". " + USAGE);
        }
      } else {
        positional.add(arg);
      }
    }
    if (positional.size() != 3) {
      throw new IllegalArgumentException(USAGE);
    }
    return DockerArchiveWriter.write(
        Path.of(positional.get(0)),
        new ImageConfig(user, env, workdir, createdBy),
        positional.get(2),
        Path.of(positional.get(1)));
  }
}

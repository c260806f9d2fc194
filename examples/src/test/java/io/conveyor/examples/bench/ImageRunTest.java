package io.conveyor.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.examples.local.Component;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How the sidecar image's entrypoint becomes the command a local cluster starts. */
class ImageRunTest {

  static final List<String> ENTRYPOINT =
      List.of(
          "java",
          "@/app/jvm.options",
          "-Djava.library.path=/app/native",
          "-XX:SharedArchiveFile=/app/conveyor-sidecar.jsa",
          "-Xshare:auto",
          "-cp",
          "@/app/jib-classpath-file",
          "io.conveyor.sidecar.SidecarMain");

  static List<String> args(String... options) {
    List<String> args = new java.util.ArrayList<>(List.of(options));
    args.add("--");
    args.addAll(ENTRYPOINT);
    return args;
  }

  @Test
  void theSidecarRunsAsTheImagesEntrypointInsideItsRootWithTheWorkFolderShared() {
    ImageRun run =
        ImageRun.parse(
            args("--rootfs=/tmp/x/rootfs", "--work=/tmp/x/work", "--archive=/tmp/x/a.jsa"),
            Set.of("archive"),
            "usage");

    List<String> command =
        run.launcher(Path.of("/repo")).command(Component.SIDECAR, List.of("arg"));

    assertThat(command).startsWith("unshare", "--mount", "--propagation", "private", "sh", "-c");
    // sh -c SCRIPT sh ROOTFS WORK ENTRYPOINT... ARGS: the script gets the root and the work folder.
    assertThat(command.subList(7, command.size()))
        .containsExactlyElementsOf(
            concat(List.of("sh", "/tmp/x/rootfs", "/tmp/x/work"), ENTRYPOINT, List.of("arg")));
    assertThat(command.get(6))
        .contains("mount -t proc proc \"$r/proc\"")
        .contains("mount --bind \"$w\" \"$r$w\"")
        .contains("exec unshare --root=\"$r\"");
    assertThat(run.options()).containsEntry("archive", "/tmp/x/a.jsa");
    assertThat(run.classArchive()).isTrue();
    // The router and the apps stay the host's jars.
    assertThat(run.launcher(Path.of("/repo")).command(Component.ROUTER, List.of()))
        .contains("-jar", "/repo/router/target/conveyor-router.jar");
  }

  @Test
  void withoutClassArchivesTheImagesEntrypointLosesOnlyTheArchiveOption() {
    ImageRun run = ImageRun.parse(args("--rootfs=/r", "--work=/w"), Set.of(), "usage");

    List<String> command =
        run.launcher(Path.of("/repo")).withoutClassArchives().command(Component.SIDECAR, List.of());

    assertThat(command).doesNotContain("-XX:SharedArchiveFile=/app/conveyor-sidecar.jsa");
    assertThat(command)
        .endsWith(
            "java",
            "@/app/jvm.options",
            "-Djava.library.path=/app/native",
            "-Xshare:auto",
            "-cp",
            "@/app/jib-classpath-file",
            "io.conveyor.sidecar.SidecarMain");
  }

  @Test
  void aMissingOrUnknownOptionOrNoEntrypointIsRefusedWithTheUsage() {
    assertThatThrownBy(() -> ImageRun.parse(args("--rootfs=/r"), Set.of(), "usage: X"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("usage: X");
    assertThatThrownBy(
            () -> ImageRun.parse(args("--rootfs=/r", "--work=/w", "--x=1"), Set.of(), "usage: X"))
        .hasMessage("usage: X");
    assertThatThrownBy(
            () -> ImageRun.parse(List.of("--rootfs=/r", "--work=/w", "--"), Set.of(), "usage: X"))
        .hasMessage("usage: X");
    assertThatThrownBy(() -> ImageRun.parse(args("rootfs"), Set.of(), "usage: X"))
        .hasMessage("not an option: rootfs. usage: X");
  }

  static List<String> concat(List<String> a, List<String> b, List<String> c) {
    List<String> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    all.addAll(c);
    return all;
  }
}

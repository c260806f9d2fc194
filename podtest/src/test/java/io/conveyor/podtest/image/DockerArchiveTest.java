package io.conveyor.podtest.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.podtest.TestImages;
import io.conveyor.podtest.TestImages.Entry;
import io.conveyor.podtest.spec.ImageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers applied in order with their whiteouts, modes and links; the config read. */
class DockerArchiveTest {

  @TempDir Path dir;

  private static ObjectNode config() {
    ObjectNode config = new ObjectMapper().createObjectNode();
    config.putArray("Entrypoint").add("/bin/app");
    config.putArray("Cmd").add("serve").add("--port=1");
    config.putArray("Env").add("PATH=/bin").add("A=b=c");
    config.put("User", "65532:65532");
    config.put("WorkingDir", "/app");
    return config;
  }

  @Test
  void layersApplyInOrderWithWhiteoutsAndOpaqueDirectories() throws IOException {
    Path tarball =
        TestImages.write(
            dir.resolve("image.tar"),
            List.of(
                List.of(
                    Entry.dir("a", 0755),
                    Entry.file("a/keep", "kept", 0644),
                    Entry.file("a/gone", "deleted by the upper layer", 0644),
                    Entry.dir("d", 0755),
                    Entry.file("d/old", "hidden by the opaque marker", 0644),
                    Entry.dir("d/sub", 0755),
                    Entry.file("replaced", "lower", 0644)),
                List.of(
                    Entry.file("a/.wh.gone", "", 0644),
                    Entry.file("d/new", "from the upper layer", 0640),
                    Entry.file("d/.wh..wh..opq", "", 0644),
                    Entry.file("replaced", "upper", 0600),
                    Entry.file("bin/app", "#!/bin/sh", 0755),
                    Entry.symlink("bin/link", "app"),
                    Entry.hardlink("bin/hard", "bin/app"),
                    Entry.dir("ro", 0555),
                    Entry.file("ro/inside", "written before its directory turns read-only", 0444))),
            config());
    Path rootfs = dir.resolve("rootfs");

    ImageConfig image = DockerArchive.unpack(tarball, rootfs);

    assertThat(Files.readString(rootfs.resolve("a/keep"))).isEqualTo("kept");
    // Files keep the layer's time (a class archive checks its jars' times).
    assertThat(Files.getLastModifiedTime(rootfs.resolve("a/keep")).toInstant())
        .isEqualTo(TestImages.LAYER_TIME);
    assertThat(Files.getLastModifiedTime(rootfs.resolve("d/new")).toInstant())
        .isEqualTo(TestImages.LAYER_TIME);
    assertThat(rootfs.resolve("a/gone")).doesNotExist();
    assertThat(rootfs.resolve("a/.wh.gone")).doesNotExist();
    assertThat(rootfs.resolve("d/old")).doesNotExist();
    assertThat(rootfs.resolve("d/sub")).doesNotExist();
    assertThat(Files.readString(rootfs.resolve("d/new"))).isEqualTo("from the upper layer");
    assertThat(rootfs.resolve("d/.wh..wh..opq")).doesNotExist();
    assertThat(Files.readString(rootfs.resolve("replaced"))).isEqualTo("upper");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(rootfs.resolve("replaced"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(Files.getPosixFilePermissions(rootfs.resolve("d/new"))))
        .isEqualTo("rw-r-----");
    assertThat(Files.readSymbolicLink(rootfs.resolve("bin/link"))).isEqualTo(Path.of("app"));
    assertThat(Files.isSameFile(rootfs.resolve("bin/hard"), rootfs.resolve("bin/app"))).isTrue();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(rootfs.resolve("ro"), LinkOption.NOFOLLOW_LINKS)))
        .isEqualTo("r-xr-xr-x");
    assertThat(Files.readString(rootfs.resolve("ro/inside"))).startsWith("written");

    assertThat(image.rootfs()).isEqualTo(rootfs);
    assertThat(image.entrypoint()).containsExactly("/bin/app");
    assertThat(image.cmd()).containsExactly("serve", "--port=1");
    assertThat(image.env()).containsExactly("PATH=/bin", "A=b=c");
    assertThat(image.user()).isEqualTo("65532:65532");
    assertThat(image.workingDir()).isEqualTo("/app");
    assertThat(dir.resolve("rootfs.archive")).doesNotExist();
  }

  @Test
  void ownersAndSpecialBitsAreKeptWhenUnpackingAsRoot() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "owners can only be given away by root");
    Path tarball =
        TestImages.write(
            dir.resolve("image.tar"),
            List.of(
                List.of(
                    Entry.dir("tmp", 01777), Entry.file("owned", "x", 04755).owned(65532, 65533))),
            config());

    DockerArchive.unpack(tarball, dir.resolve("rootfs"));

    Path owned = dir.resolve("rootfs/owned");
    assertThat(Files.getAttribute(owned, "unix:uid")).isEqualTo(65532);
    assertThat(Files.getAttribute(owned, "unix:gid")).isEqualTo(65533);
    assertThat(((Integer) Files.getAttribute(owned, "unix:mode")) & 07777).isEqualTo(04755);
    assertThat(((Integer) Files.getAttribute(dir.resolve("rootfs/tmp"), "unix:mode")) & 07777)
        .isEqualTo(01777);
  }

  @Test
  void anEntryThatLeavesTheRootIsRefused() throws IOException {
    Path tarball =
        TestImages.write(
            dir.resolve("evil.tar"),
            List.of(List.of(Entry.file("../escape", "x", 0644))),
            config());

    assertThatThrownBy(() -> DockerArchive.unpack(tarball, dir.resolve("rootfs")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("../escape")
        .hasMessageContaining("leaves");
    assertThat(dir.resolve("escape")).doesNotExist();
  }
}

package io.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerArchiveWriterTest {

  static final ImageConfig CONFIG =
      new ImageConfig(
          "65532:65532",
          List.of("PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"),
          "/home/nonroot",
          "debootstrap --variant=minbase bookworm");

  @TempDir Path dir;

  @Test
  void writesAnArchiveThatReadsBackWithItsConfigDigestsAndFiles() throws IOException {
    Path layer = dir.resolve("layer.tar");
    Files.write(layer, rootfsLayer());
    Path out = dir.resolve("base.tar");

    DockerArchiveWriter.Written written =
        DockerArchiveWriter.write(layer, CONFIG, "conveyor-base:3", out);

    assertThat(written.diffId()).isEqualTo("sha256:" + Sha256.hex(Files.readAllBytes(layer)));
    try (DockerArchive image = DockerArchive.open(out)) {
      assertThat(image.repoTags()).containsExactly("conveyor-base:3");
      assertThat(image.layerPaths()).containsExactly(written.diffId().substring(7) + "/layer.tar");
      assertThat(image.config().path("rootfs").path("diff_ids").get(0).asText())
          .isEqualTo(written.diffId());
      assertThat(image.runtimeConfig().path("User").asText()).isEqualTo("65532:65532");
      assertThat(image.runtimeConfig().path("WorkingDir").asText()).isEqualTo("/home/nonroot");
      assertThat(image.runtimeConfig().path("Env").get(1).asText()).isEqualTo("LANG=C.UTF-8");
      assertThat(image.config().path("created").asText()).isEqualTo("1970-01-01T00:00:00Z");
      assertThat(new String(image.read("/etc/passwd"), StandardCharsets.UTF_8))
          .contains("nonroot:x:65532:65532:");
      // bin -> usr/bin: the java a PATH lookup finds is the executable file behind the link.
      assertThat(image.resolve("/bin/java").orElseThrow())
          .satisfies(java -> assertThat(java.path()).isEqualTo("usr/bin/java"))
          .satisfies(java -> assertThat(java.executable()).isTrue());
      assertThat(image.whiteouts()).isZero();
    }
    // The image id is the digest of the config file in the archive, which is named by it.
    assertThat(written.imageId()).startsWith("sha256:").hasSize(71);
    assertThat(Files.list(dir)).noneMatch(p -> p.toString().endsWith(".partial"));
  }

  @Test
  void sameInputsGiveTheSameBytesAndAnotherConfigAnotherImageId() throws IOException {
    Path layer = dir.resolve("layer.tar");
    Files.write(layer, rootfsLayer());
    Path first = dir.resolve("first.tar");
    Path second = dir.resolve("second.tar");
    Path other = dir.resolve("other.tar");

    var a = DockerArchiveWriter.write(layer, CONFIG, "conveyor-base:3", first);
    var b = DockerArchiveWriter.write(layer, CONFIG, "conveyor-base:3", second);
    var c =
        DockerArchiveWriter.write(
            layer,
            new ImageConfig("65532:65532", List.of(), "/", CONFIG.createdBy()),
            "conveyor-base:3",
            other);

    assertThat(Files.readAllBytes(first)).isEqualTo(Files.readAllBytes(second));
    assertThat(a).isEqualTo(b);
    assertThat(c.imageId()).isNotEqualTo(a.imageId());
    assertThat(c.diffId()).isEqualTo(a.diffId());
  }

  @Test
  void refusesALayerThatIsNotATarAndLeavesNothingBehind() throws IOException {
    Path layer = dir.resolve("layer.tar");
    Files.writeString(layer, "not a tar, just text that is long enough to be read as a header");
    Path out = dir.resolve("base.tar");

    assertThatThrownBy(() -> DockerArchiveWriter.write(layer, CONFIG, "conveyor-base:3", out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("layer.tar is not");
    assertThat(Files.list(dir)).containsExactly(layer);
  }

  @Test
  void refusesBadSettingsNamingThem() {
    assertThatThrownBy(() -> new ImageConfig("nonroot", List.of(), "/", "x"))
        .hasMessageContaining("numeric uid:gid, got 'nonroot'");
    assertThatThrownBy(() -> new ImageConfig("1:1", List.of("NOEQUALS"), "/", "x"))
        .hasMessageContaining("NAME=value, got 'NOEQUALS'");
    assertThatThrownBy(() -> new ImageConfig("1:1", List.of(), "home", "x"))
        .hasMessageContaining("absolute path, got 'home'");
    Path layer = dir.resolve("layer.tar");
    assertThatThrownBy(
            () -> DockerArchiveWriter.write(layer, CONFIG, "No Tag", dir.resolve("o.tar")))
        .hasMessageContaining("name:tag, got 'No Tag'");
  }

  @Test
  void readerRefusesALayerWhoseDigestIsNotTheConfigsDiffId() throws IOException {
    byte[] layer = rootfsLayer();
    byte[] tampered = layer.clone();
    tampered[3 * 512 + 2] ^= 1; // in /etc/passwd's contents (after three headers): still a tar
    Path out = dir.resolve("tampered.tar");
    Files.write(out, archive(List.of(tampered), List.of("sha256:" + Sha256.hex(layer))));

    assertThatThrownBy(() -> DockerArchive.open(out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("config says sha256:" + Sha256.hex(layer));
  }

  @Test
  void readerAppliesLayersInOrderWithWhiteouts() throws IOException {
    byte[] lower = rootfsLayer();
    byte[] upper =
        tar(
            Map.of(
                "etc/.wh.passwd", "",
                "usr/bin/.wh..wh..opq", "",
                "usr/bin/tool", "#!new",
                "app/jvm.options", "-Xmx32m\n"));
    Path out = dir.resolve("two.tar");
    Files.write(
        out,
        archive(
            List.of(lower, upper),
            List.of("sha256:" + Sha256.hex(lower), "sha256:" + Sha256.hex(upper))));

    try (DockerArchive image = DockerArchive.open(out)) {
      assertThat(image.whiteouts()).isEqualTo(2);
      assertThat(image.tree()).doesNotContainKeys("etc/passwd", "usr/bin/java");
      assertThat(image.tree()).containsKeys("etc", "usr/bin/tool", "app/jvm.options");
      assertThat(new String(image.read("app/jvm.options"), StandardCharsets.UTF_8))
          .isEqualTo("-Xmx32m\n");
      assertThat(image.resolve("bin/java")).isEmpty();
    }
  }

  /** A tiny root filesystem: /etc/passwd, an executable /usr/bin/java, /bin -> usr/bin. */
  static byte[] rootfsLayer() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      dirEntry(tar, "./");
      dirEntry(tar, "./etc/");
      file(
          tar,
          "./etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
              + "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
          0644);
      dirEntry(tar, "./usr/");
      dirEntry(tar, "./usr/bin/");
      file(tar, "./usr/bin/java", "#!java", 0755);
      TarArchiveEntry link = new TarArchiveEntry("./bin", TarArchiveEntry.LF_SYMLINK);
      link.setLinkName("usr/bin");
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
      tar.finish();
    }
    return bytes.toByteArray();
  }

  static byte[] tar(Map<String, String> files) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      for (var f : new java.util.TreeMap<>(files).entrySet()) {
        file(tar, f.getKey(), f.getValue(), 0644);
      }
      tar.finish();
    }
    return bytes.toByteArray();
  }

  /** A docker-save archive built by hand, so the reader is checked against more than the writer. */
  static byte[] archive(List<byte[]> layers, List<String> diffIds) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = json.createObjectNode();
    config.putObject("config").put("User", "65532:65532");
    ArrayNode ids = config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
    diffIds.forEach(ids::add);
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("config.json", json.writeValueAsBytes(config));
    ArrayNode manifest = json.createArrayNode();
    ObjectNode image = manifest.addObject().put("Config", "config.json");
    image.putArray("RepoTags").add("t:1");
    ArrayNode paths = image.putArray("Layers");
    for (int i = 0; i < layers.size(); i++) {
      entries.put("layer" + i + ".tar", layers.get(i));
      paths.add("layer" + i + ".tar");
    }
    entries.put("manifest.json", json.writeValueAsBytes(manifest));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      for (var e : entries.entrySet()) {
        TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
        entry.setSize(e.getValue().length);
        tar.putArchiveEntry(entry);
        tar.write(e.getValue());
        tar.closeArchiveEntry();
      }
      tar.finish();
    }
    return bytes.toByteArray();
  }

  private static void dirEntry(TarArchiveOutputStream tar, String name) throws IOException {
    tar.putArchiveEntry(new TarArchiveEntry(name));
    tar.closeArchiveEntry();
  }

  private static void file(TarArchiveOutputStream tar, String name, String text, int mode)
      throws IOException {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(data.length);
    entry.setMode(0100000 | mode);
    tar.putArchiveEntry(entry);
    OutputStream out = tar;
    out.write(data);
    tar.closeArchiveEntry();
  }
}

package io.conveyor.podtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.podtest.run.Commands;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * docker-save tarballs written by the tests themselves, in the layout jib's {@code buildTar} writes
 * (manifest.json, a config, gzipped layer blobs), and the tiny busybox image the pods tier runs
 * when the project's own images are not at hand.
 */
public final class TestImages {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every layer entry's time: jib's fixed one, 1970-01-01T00:00:01Z. */
  public static final Instant LAYER_TIME = Instant.ofEpochSecond(1);

  private TestImages() {}

  /** One file, directory or link in a layer. */
  public record Entry(
      String name, byte[] content, int mode, int uid, int gid, String symlink, String hardlink) {

    public static Entry file(String name, String content, int mode) {
      return new Entry(name, content.getBytes(), mode, 0, 0, null, null);
    }

    public static Entry file(String name, byte[] content, int mode) {
      return new Entry(name, content, mode, 0, 0, null, null);
    }

    public static Entry dir(String name, int mode) {
      return new Entry(name, null, mode, 0, 0, null, null);
    }

    public static Entry symlink(String name, String target) {
      return new Entry(name, null, 0777, 0, 0, target, null);
    }

    public static Entry hardlink(String name, String target) {
      return new Entry(name, null, 0644, 0, 0, null, target);
    }

    public Entry owned(int uid, int gid) {
      return new Entry(name, content, mode, uid, gid, symlink, hardlink);
    }
  }

  /** Writes a docker-save tarball with {@code layers} in order (gzipped) and {@code config}. */
  public static Path write(Path tarball, List<List<Entry>> layers, ObjectNode config)
      throws IOException {
    ObjectNode imageConfig = JSON.createObjectNode();
    imageConfig.put("architecture", "amd64").put("os", "linux");
    imageConfig.set("config", config);
    List<String> layerNames = new ArrayList<>();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(tarball))) {
      out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (int i = 0; i < layers.size(); i++) {
        String name = "layer" + i + ".tar.gz";
        put(out, name, layer(layers.get(i)));
        layerNames.add(name);
      }
      put(out, "config.json", JSON.writeValueAsBytes(imageConfig));
      ObjectNode manifest = JSON.createObjectNode();
      manifest.put("Config", "config.json");
      manifest.putArray("RepoTags").add("podtest/image:latest");
      layerNames.forEach(manifest.putArray("Layers")::add);
      put(out, "manifest.json", JSON.writeValueAsBytes(JSON.createArrayNode().add(manifest)));
    }
    return tarball;
  }

  private static byte[] layer(List<Entry> entries) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream gz = new GzipCompressorOutputStream(bytes);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Entry e : entries) {
        TarArchiveEntry entry;
        if (e.symlink() != null) {
          entry = new TarArchiveEntry(e.name(), TarArchiveEntry.LF_SYMLINK);
          entry.setLinkName(e.symlink());
        } else if (e.hardlink() != null) {
          entry = new TarArchiveEntry(e.name(), TarArchiveEntry.LF_LINK);
          entry.setLinkName(e.hardlink());
        } else if (e.content() == null) {
          entry = new TarArchiveEntry(e.name().endsWith("/") ? e.name() : e.name() + "/");
        } else {
          entry = new TarArchiveEntry(e.name());
          entry.setSize(e.content().length);
        }
        entry.setMode(
            (entry.isDirectory() ? 040000 : entry.isSymbolicLink() ? 0120000 : 0100000) | e.mode());
        entry.setUserId(e.uid());
        entry.setGroupId(e.gid());
        entry.setModTime(LAYER_TIME.toEpochMilli());
        tar.putArchiveEntry(entry);
        if (e.content() != null && e.symlink() == null && e.hardlink() == null) {
          tar.write(e.content());
        }
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static void put(TarArchiveOutputStream out, String name, byte[] content)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(content.length);
    out.putArchiveEntry(entry);
    out.write(content);
    out.closeArchiveEntry();
  }

  /**
   * Debian's static busybox with a link per applet, /tmp sticky and world-writable, an image config
   * with {@code entrypoint} and {@code cmd}.
   */
  public static Path busybox(Path tarball, List<String> entrypoint, List<String> cmd, String user)
      throws IOException {
    Path binary = Path.of("/bin/busybox");
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException(
          "no /bin/busybox: apt-get install busybox-static (./conveyor deps)");
    }
    List<Entry> layer = new ArrayList<>();
    for (String dir : List.of("bin", "etc", "proc", "sys", "dev", "var", "app")) {
      layer.add(Entry.dir(dir, 0755));
    }
    layer.add(Entry.dir("tmp", 01777));
    layer.add(Entry.file("bin/busybox", Files.readAllBytes(binary), 0755));
    for (String applet :
        Commands.run("/bin/busybox", "--list").lines().map(String::strip).toList()) {
      if (!applet.isEmpty() && !applet.equals("busybox")) {
        layer.add(Entry.symlink("bin/" + applet, "busybox"));
      }
    }
    layer.add(
        Entry.file(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n",
            0644));
    layer.add(Entry.file("etc/group", "root:x:0:\nnonroot:x:65532:\n", 0644));
    ObjectNode config = JSON.createObjectNode();
    entrypoint.forEach(config.putArray("Entrypoint")::add);
    cmd.forEach(config.putArray("Cmd")::add);
    config.putArray("Env").add("PATH=/bin");
    config.put("User", user);
    config.put("WorkingDir", "/");
    return write(tarball, List.of(layer), config);
  }
}

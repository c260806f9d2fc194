package io.conveyor.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * An image in {@code docker save} format (what {@link DockerArchiveWriter} and jib's {@code
 * buildTar} write), read back: its manifest, its config, and the file tree its layers make, with
 * every layer's digest checked against the config's {@code rootfs.diff_ids} when it is opened.
 *
 * <p>The tree applies the layers in order as a container runtime does, whiteouts included, so a
 * test can ask what a container would see at a path. Opening reads every layer once (a 480 MB base
 * layer takes a few seconds).
 */
public final class DockerArchive implements AutoCloseable {

  /** Largest file {@link #read} returns: configuration and classpath files, not jars. */
  static final int MAX_READ_BYTES = 16 << 20;

  private static final int MAX_SYMLINK_HOPS = 40;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One path of the final tree: what the topmost layer that has it says. */
  public record Entry(
      String path, int layer, Type type, int mode, long uid, long gid, long size, String linkName) {

    public boolean executable() {
      return (mode & 0111) != 0;
    }
  }

  public enum Type {
    FILE,
    DIRECTORY,
    SYMLINK,
    HARDLINK,
    OTHER
  }

  private final Path path;
  private final TarFile archive;
  private final JsonNode config;
  private final List<String> repoTags;
  private final List<String> layerPaths;
  private final Map<String, Entry> tree;
  private final int whiteouts;

  private DockerArchive(
      Path path,
      TarFile archive,
      JsonNode config,
      List<String> repoTags,
      List<String> layerPaths,
      Map<String, Entry> tree,
      int whiteouts) {
    this.path = path;
    this.archive = archive;
    this.config = config;
    this.repoTags = repoTags;
    this.layerPaths = layerPaths;
    this.tree = tree;
    this.whiteouts = whiteouts;
  }

  /**
   * Opens and checks the archive: one image in {@code manifest.json}, its config, every layer's
   * SHA-256 (of the uncompressed tar) equal to the config's diff id at the same index.
   *
   * @throws IllegalArgumentException naming what is missing or does not match
   */
  public static DockerArchive open(Path path) throws IOException {
    TarFile archive = new TarFile(path);
    try {
      JsonNode manifest = JSON.readTree(bytesOf(archive, path, "manifest.json"));
      if (!manifest.isArray() || manifest.size() != 1) {
        throw new IllegalArgumentException(
            path + ": manifest.json must list exactly one image, got " + manifest);
      }
      JsonNode image = manifest.get(0);
      JsonNode config = JSON.readTree(bytesOf(archive, path, image.path("Config").asText()));
      List<String> repoTags = new ArrayList<>();
      image.path("RepoTags").forEach(t -> repoTags.add(t.asText()));
      List<String> layerPaths = new ArrayList<>();
      image.path("Layers").forEach(l -> layerPaths.add(l.asText()));
      JsonNode diffIds = config.path("rootfs").path("diff_ids");
      if (layerPaths.isEmpty() || diffIds.size() != layerPaths.size()) {
        throw new IllegalArgumentException(
            path
                + ": "
                + layerPaths.size()
                + " layers in manifest.json but "
                + diffIds.size()
                + " diff_ids in the config");
      }
      Map<String, Entry> tree = new LinkedHashMap<>();
      int[] whiteouts = {0};
      for (int i = 0; i < layerPaths.size(); i++) {
        String actual = applyLayer(archive, path, layerPaths.get(i), i, tree, whiteouts);
        String expected = diffIds.get(i).asText();
        if (!expected.equals(actual)) {
          throw new IllegalArgumentException(
              path
                  + ": layer "
                  + layerPaths.get(i)
                  + " is "
                  + actual
                  + ", config says "
                  + expected);
        }
      }
      return new DockerArchive(
          path,
          archive,
          config,
          List.copyOf(repoTags),
          List.copyOf(layerPaths),
          tree,
          whiteouts[0]);
    } catch (IOException | RuntimeException e) {
      archive.close();
      throw e;
    }
  }

  /**
   * The id and tags of the image in the archive at {@code path}, read from its manifest and config
   * alone: no layer is read or checked ({@link #open} does that).
   */
  public static Identity identityOf(Path path) throws IOException {
    try (TarFile archive = new TarFile(path)) {
      JsonNode manifest = JSON.readTree(bytesOf(archive, path, "manifest.json"));
      if (!manifest.isArray() || manifest.size() != 1) {
        throw new IllegalArgumentException(
            path + ": manifest.json must list exactly one image, got " + manifest);
      }
      JsonNode image = manifest.get(0);
      byte[] configBytes = bytesOf(archive, path, image.path("Config").asText());
      List<String> repoTags = new ArrayList<>();
      image.path("RepoTags").forEach(t -> repoTags.add(t.asText()));
      return new Identity("sha256:" + Sha256.hex(configBytes), List.copyOf(repoTags));
    }
  }

  /** An image's id (the digest of its config) and the tags it was saved under. */
  public record Identity(String imageId, List<String> repoTags) {}

  /** The tarball this was read from. */
  public Path path() {
    return path;
  }

  /** The whole config JSON ({@code architecture}, {@code config}, {@code rootfs}, ...). */
  public JsonNode config() {
    return config;
  }

  /** The runtime part of the config: {@code User}, {@code Env}, {@code Entrypoint}, ... */
  public JsonNode runtimeConfig() {
    return config.path("config");
  }

  public List<String> repoTags() {
    return repoTags;
  }

  /** The layers' paths inside the archive, base first. */
  public List<String> layerPaths() {
    return layerPaths;
  }

  /** How many whiteout entries (deletions by an upper layer) the layers hold. */
  public int whiteouts() {
    return whiteouts;
  }

  /** The final file tree, paths without a leading slash ({@code etc/passwd}). */
  public Map<String, Entry> tree() {
    return java.util.Collections.unmodifiableMap(tree);
  }

  /** The entry a container would see at {@code path}, symbolic links followed. */
  public Optional<Entry> resolve(String path) {
    String current = normalize(path);
    for (int hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
      String next = substituteFirstLink(current);
      if (next == null) {
        return Optional.ofNullable(tree.get(current));
      }
      current = next;
    }
    throw new IllegalArgumentException(path + ": more than " + MAX_SYMLINK_HOPS + " symlinks");
  }

  /** The contents of the regular file at {@code path} (links followed); at most 16 MiB. */
  public byte[] read(String path) throws IOException {
    Entry entry =
        resolve(path).orElseThrow(() -> new IllegalArgumentException(path + ": no such file"));
    while (entry.type() == Type.HARDLINK) {
      String target = normalize(entry.linkName());
      entry =
          Optional.ofNullable(tree.get(target))
              .orElseThrow(() -> new IllegalArgumentException(path + ": dangling hard link"));
    }
    if (entry.type() != Type.FILE) {
      throw new IllegalArgumentException(path + " is a " + entry.type() + ", not a file");
    }
    if (entry.size() > MAX_READ_BYTES) {
      throw new IllegalArgumentException(path + " is larger than " + MAX_READ_BYTES + " bytes");
    }
    try (TarArchiveInputStream layer =
        layerStream(archive, this.path, layerPaths.get(entry.layer()))) {
      for (TarArchiveEntry e; (e = layer.getNextEntry()) != null; ) {
        if (normalize(e.getName()).equals(entry.path())) {
          return layer.readAllBytes();
        }
      }
    }
    throw new IllegalStateException(path + " vanished from layer " + entry.layer());
  }

  /** Replaces the first component of {@code path} that is a symlink; null when there is none. */
  private String substituteFirstLink(String path) {
    String[] parts = path.split("/");
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      String parent = prefix.toString();
      if (i > 0) {
        prefix.append('/');
      }
      prefix.append(parts[i]);
      Entry entry = tree.get(prefix.toString());
      if (entry != null && entry.type() == Type.SYMLINK) {
        String target = entry.linkName();
        String base =
            target.startsWith("/") ? target : (parent.isEmpty() ? "" : parent + "/") + target;
        String rest = String.join("/", java.util.Arrays.copyOfRange(parts, i + 1, parts.length));
        return normalize(rest.isEmpty() ? base : base + "/" + rest);
      }
    }
    return null;
  }

  /** {@code ./usr/bin/../lib/} and {@code /usr/lib} both become {@code usr/lib}. */
  static String normalize(String name) {
    List<String> out = new ArrayList<>();
    for (String part : name.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
        continue;
      }
      out.add(part);
    }
    return String.join("/", out);
  }

  /** Applies one layer to the tree (whiteouts remove); returns {@code sha256:} of its tar. */
  private static String applyLayer(
      TarFile archive,
      Path path,
      String layerPath,
      int index,
      Map<String, Entry> tree,
      int[] whiteouts)
      throws IOException {
    MessageDigest digest = Sha256.newDigest();
    try (InputStream blob = blob(archive, path, layerPath);
        DigestInputStream digesting = new DigestInputStream(uncompressed(blob), digest);
        TarArchiveInputStream tar = new TarArchiveInputStream(digesting)) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        String name = normalize(e.getName());
        if (name.isEmpty()) {
          continue;
        }
        int slash = name.lastIndexOf('/');
        String dir = slash < 0 ? "" : name.substring(0, slash);
        String base = name.substring(slash + 1);
        if (base.startsWith(".wh.")) {
          whiteouts[0]++;
        }
        if (base.equals(".wh..wh..opq")) {
          removeUnder(tree, dir, index);
        } else if (base.startsWith(".wh.")) {
          String gone = (dir.isEmpty() ? "" : dir + "/") + base.substring(4);
          tree.remove(gone);
          removeUnder(tree, gone, index);
        } else {
          tree.put(name, entryOf(name, index, e));
        }
      }
      digesting.transferTo(OutputStream.nullOutputStream());
    }
    return "sha256:" + HexFormat.of().formatHex(digest.digest());
  }

  private static void removeUnder(Map<String, Entry> tree, String dir, int layer) {
    String prefix = dir.isEmpty() ? "" : dir + "/";
    tree.values().removeIf(e -> e.layer() < layer && e.path().startsWith(prefix));
  }

  private static Entry entryOf(String name, int layer, TarArchiveEntry e) {
    Type type;
    if (e.isSymbolicLink()) {
      type = Type.SYMLINK;
    } else if (e.isLink()) {
      type = Type.HARDLINK;
    } else if (e.isDirectory()) {
      type = Type.DIRECTORY;
    } else if (e.isFile()) {
      type = Type.FILE;
    } else {
      type = Type.OTHER;
    }
    return new Entry(
        name,
        layer,
        type,
        e.getMode() & 07777,
        e.getLongUserId(),
        e.getLongGroupId(),
        e.getSize(),
        e.getLinkName());
  }

  private static TarArchiveInputStream layerStream(TarFile archive, Path path, String layerPath)
      throws IOException {
    return new TarArchiveInputStream(uncompressed(blob(archive, path, layerPath)));
  }

  private static InputStream blob(TarFile archive, Path path, String name) throws IOException {
    for (TarArchiveEntry e : archive.getEntries()) {
      if (normalize(e.getName()).equals(normalize(name))) {
        return archive.getInputStream(e);
      }
    }
    throw new IllegalArgumentException(path + ": no entry " + name + " in the archive");
  }

  private static byte[] bytesOf(TarFile archive, Path path, String name) throws IOException {
    try (InputStream in = blob(archive, path, name)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      for (int n, total = 0; (n = in.read(buffer)) != -1; ) {
        total += n;
        if (total > MAX_READ_BYTES) {
          throw new IllegalArgumentException(path + ": " + name + " is larger than 16 MiB");
        }
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    }
  }

  /** Layers are plain or gzip tars (jib writes gzip, DockerArchiveWriter plain). */
  private static InputStream uncompressed(InputStream blob) throws IOException {
    BufferedInputStream in = new BufferedInputStream(blob, 1 << 16);
    in.mark(2);
    int b1 = in.read();
    int b2 = in.read();
    in.reset();
    return (b1 == 0x1f && b2 == 0x8b) ? new GZIPInputStream(in, 1 << 16) : in;
  }

  @Override
  public void close() throws IOException {
    archive.close();
  }
}

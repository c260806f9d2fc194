package io.conveyor.podtest.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conveyor.podtest.spec.ImageConfig;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * A {@code docker save} tarball (what jib's {@code buildTar} writes) unpacked into a root
 * filesystem: {@code manifest.json} names the config and the layers, applied in order, with the OCI
 * whiteouts ({@code .wh.name} deletes a lower file, {@code .wh..wh..opq} empties a lower directory)
 * honoured. Owners and modes are kept, so it must run as root for a faithful rootfs.
 */
public final class DockerArchive {

  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";

  private static final ObjectMapper JSON = new ObjectMapper();

  private DockerArchive() {}

  /** Unpacks {@code tarball} into {@code rootfs} (created, must not exist) and reads its config. */
  public static ImageConfig unpack(Path tarball, Path rootfs) throws IOException {
    if (Files.exists(rootfs)) {
      throw new FileAlreadyExistsException(rootfs.toString());
    }
    Path archive = rootfs.resolveSibling(rootfs.getFileName() + ".archive");
    deleteRecursively(archive);
    Files.createDirectories(archive);
    try {
      extractPlain(tarball, archive);
      JsonNode manifest = JSON.readTree(archive.resolve("manifest.json").toFile());
      if (!manifest.isArray() || manifest.size() != 1) {
        throw new IOException(
            tarball + ": manifest.json must list exactly one image, it lists " + manifest.size());
      }
      JsonNode image = manifest.get(0);
      Files.createDirectories(rootfs);
      for (JsonNode layer : image.path("Layers")) {
        applyLayer(inside(archive, layer.asText()), rootfs);
      }
      JsonNode config =
          JSON.readTree(inside(archive, image.path("Config").asText()).toFile()).path("config");
      return new ImageConfig(
          rootfs,
          strings(config.path("Entrypoint")),
          strings(config.path("Cmd")),
          strings(config.path("Env")),
          config.path("User").asText(""),
          config.path("WorkingDir").asText(""));
    } finally {
      deleteRecursively(archive);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The outer tarball holds only regular files (manifest, config, layer blobs). */
  private static void extractPlain(Path tarball, Path into) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(open(tarball))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        if (e.isFile()) {
          Path target = inside(into, e.getName());
          Files.createDirectories(target.getParent());
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void applyLayer(Path layer, Path rootfs) throws IOException {
    // Pass 1: whiteouts act on the lower layers only, so they are applied before this layer's
    // own files are written (an opaque directory keeps what this layer puts in it).
    try (TarArchiveInputStream tar = new TarArchiveInputStream(open(layer))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        String name = relative(e.getName());
        String base = name.substring(name.lastIndexOf('/') + 1);
        String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
        if (base.equals(OPAQUE)) {
          Path dir = inside(rootfs, parent);
          if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> children = Files.list(dir)) {
              for (Path child : children.toList()) {
                deleteRecursively(child);
              }
            }
          }
        } else if (base.startsWith(WHITEOUT)) {
          deleteRecursively(
              inside(
                  rootfs,
                  (parent.isEmpty() ? "" : parent + "/") + base.substring(WHITEOUT.length())));
        }
      }
    }
    Map<Path, Integer> directoryModes = new LinkedHashMap<>();
    Map<Path, Integer> specialModes = new LinkedHashMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(open(layer))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        String name = relative(e.getName());
        String base = name.substring(name.lastIndexOf('/') + 1);
        if (name.isEmpty() || base.startsWith(WHITEOUT)) {
          continue;
        }
        Path target = inside(rootfs, name);
        Files.createDirectories(target.getParent());
        if (e.isDirectory()) {
          if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            deleteRecursively(target);
            Files.createDirectory(target);
          }
          directoryModes.put(target, e.getMode());
        } else if (e.isSymbolicLink()) {
          deleteRecursively(target);
          Files.createSymbolicLink(target, Path.of(e.getLinkName()));
        } else if (e.isLink()) {
          deleteRecursively(target);
          Files.createLink(target, inside(rootfs, relative(e.getLinkName())));
          continue; // a hard link shares its target's owner and mode
        } else if (e.isFile()) {
          deleteRecursively(target);
          Files.copy(tar, target);
          Files.setPosixFilePermissions(target, permissions(e.getMode()));
          // The layer's time, as a container runtime keeps it: a class-data-sharing archive is
          // used only with the jars (jib's, at 1970-01-01T00:00:01Z) it was dumped with.
          Files.setLastModifiedTime(target, FileTime.from(e.getModTime().toInstant()));
        } else if (name.startsWith("dev/")) {
          continue; // device nodes: the runtime mounts its own /dev
        } else {
          throw new IOException(
              layer + ": entry " + name + " is of a type the runner cannot unpack");
        }
        if ((e.getMode() & 07000) != 0 && !e.isSymbolicLink()) {
          specialModes.put(target, e.getMode());
        }
        own(target, e);
      }
    }
    // Directory modes last, deepest first, so that a read-only directory does not stop its files.
    List<Path> dirs = new ArrayList<>(directoryModes.keySet());
    dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    for (Path dir : dirs) {
      Files.setPosixFilePermissions(dir, permissions(directoryModes.get(dir)));
    }
    // setuid, setgid and sticky bits are beyond java.nio's permission set.
    for (Map.Entry<Path, Integer> special : specialModes.entrySet()) {
      run(
          List.of(
              "chmod",
              Integer.toOctalString(special.getValue() & 07777),
              special.getKey().toString()));
    }
  }

  private static void run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException(
            command + " failed: " + new String(p.getInputStream().readAllBytes()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + command, e);
    }
  }

  private static void own(Path target, TarArchiveEntry e) throws IOException {
    if (!isRoot()) {
      return; // only root can give files away; the rootfs is then owned by the current user
    }
    Files.setAttribute(target, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(target, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE,
      PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(order[bit]);
      }
    }
    return set;
  }

  private static InputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file));
    in.mark(2);
    int b1 = in.read();
    int b2 = in.read();
    in.reset();
    return b1 == 0x1f && b2 == 0x8b ? new GzipCompressorInputStream(in) : in;
  }

  private static String relative(String name) {
    String n = name;
    while (n.startsWith("./") || n.startsWith("/")) {
      n = n.startsWith("./") ? n.substring(2) : n.substring(1);
    }
    if (n.equals(".")) {
      return "";
    }
    return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
  }

  /** {@code name} under {@code root}, refusing any name that would leave it. */
  static Path inside(Path root, String name) throws IOException {
    Path resolved = root.resolve(relative(name)).normalize();
    if (!resolved.startsWith(root.normalize())) {
      throw new IOException("archive entry " + name + " leaves " + root);
    }
    return resolved;
  }

  /** Deletes a file, a symlink (not its target) or a directory tree; absent is fine. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> children = Files.list(path)) {
        for (Path child : children.toList()) {
          deleteRecursively(child);
        }
      }
    }
    try {
      Files.delete(path);
    } catch (DirectoryNotEmptyException e) {
      throw new IOException("could not empty " + path, e);
    }
  }
}

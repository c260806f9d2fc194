package io.conveyor.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes a one-layer image in {@code docker save} format: {@code manifest.json}, the config JSON
 * named by its digest, and the layer (an uncompressed tar) as {@code <diffId>/layer.tar}. That is
 * the form jib accepts as a {@code tar://} base (it refuses an OCI layout, jib#2173).
 *
 * <p>The output is a pure function of the layer's bytes, the config and the tag: every time in the
 * archive and the config is the epoch, every owner root, so the same root filesystem gives the same
 * image id. The archive is written next to {@code out} and renamed onto it, so a killed run never
 * leaves a partial archive under the final name.
 */
public final class DockerArchiveWriter {

  static final String CREATED = "1970-01-01T00:00:00Z";
  private static final ObjectMapper JSON = new ObjectMapper();

  private DockerArchiveWriter() {}

  /** What was written: the config digest (the image id) and the layer's diff id. */
  public record Written(String imageId, String diffId) {}

  /**
   * Writes the archive.
   *
   * @param layerTar the root filesystem as an uncompressed tar
   * @param repoTag the {@code name:tag} the archive carries (what {@code docker load} would name
   *     it)
   * @throws IllegalArgumentException when the layer is not a tar or holds no entry
   */
  public static Written write(Path layerTar, ImageConfig config, String repoTag, Path out)
      throws IOException {
    if (!repoTag.matches("[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")) {
      throw new IllegalArgumentException("repoTag must be name:tag, got '" + repoTag + "'");
    }
    String diffHex = digestOfTar(layerTar);
    byte[] configJson = configJson(config, diffHex);
    String configHex = Sha256.hex(configJson);
    byte[] manifestJson = manifestJson(configHex, diffHex, repoTag);

    Path tmp = out.resolveSibling(out.getFileName() + ".partial");
    try (OutputStream file = Files.newOutputStream(tmp);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(file)) {
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      putBytes(tar, configHex + ".json", configJson);
      try (InputStream layer = Files.newInputStream(layerTar)) {
        putStream(tar, diffHex + "/layer.tar", Files.size(layerTar), layer);
      }
      putBytes(tar, "manifest.json", manifestJson);
      tar.finish();
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return new Written("sha256:" + configHex, "sha256:" + diffHex);
  }

  /**
   * Reads the layer once: checks it is a tar with at least one entry while computing its SHA-256
   * (the diff id; the layer is stored uncompressed, so it is also the blob's digest).
   */
  static String digestOfTar(Path layerTar) throws IOException {
    MessageDigest digest = Sha256.newDigest();
    int entries = 0;
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(layerTar), 1 << 16);
        DigestInputStream digesting = new DigestInputStream(raw, digest);
        TarArchiveInputStream tar = new TarArchiveInputStream(digesting)) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        entries++;
      }
      // The tar reader stops at the end-of-archive blocks; the digest covers the whole file.
      digesting.transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      throw new IllegalArgumentException(layerTar + " is not a readable tar: " + e.getMessage(), e);
    }
    if (entries == 0) {
      throw new IllegalArgumentException(layerTar + " is not a tar with entries (empty layer)");
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static byte[] configJson(ImageConfig config, String diffHex) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("architecture", "amd64");
    root.put("os", "linux");
    root.put("created", CREATED);
    ObjectNode runtime = root.putObject("config");
    runtime.put("User", config.user());
    ArrayNode env = runtime.putArray("Env");
    config.env().forEach(env::add);
    runtime.put("WorkingDir", config.workingDir());
    ObjectNode rootfs = root.putObject("rootfs");
    rootfs.put("type", "layers");
    rootfs.putArray("diff_ids").add("sha256:" + diffHex);
    ObjectNode history = root.putArray("history").addObject();
    history.put("created", CREATED);
    history.put("created_by", config.createdBy());
    return JSON.writeValueAsBytes(root);
  }

  static byte[] manifestJson(String configHex, String diffHex, String repoTag) throws IOException {
    ArrayNode manifest = JSON.createArrayNode();
    ObjectNode image = manifest.addObject();
    image.put("Config", configHex + ".json");
    image.putArray("RepoTags").add(repoTag);
    image.putArray("Layers").add(diffHex + "/layer.tar");
    return JSON.writeValueAsBytes(manifest);
  }

  private static void putBytes(TarArchiveOutputStream tar, String name, byte[] bytes)
      throws IOException {
    putStream(tar, name, bytes.length, new java.io.ByteArrayInputStream(bytes));
  }

  private static void putStream(TarArchiveOutputStream tar, String name, long size, InputStream in)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setSize(size);
    entry.setMode(0100644);
    entry.setModTime(0);
    entry.setUserId(0);
    entry.setGroupId(0);
    tar.putArchiveEntry(entry);
    long copied = in.transferTo(tar);
    if (copied != size) {
      throw new IOException(name + " changed while being written: " + copied + " of " + size);
    }
    tar.closeArchiveEntry();
  }
}

package io.conveyor.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * Unpacks an image's layers, base first, into a directory a container runtime (or {@code chroot})
 * can use as the root filesystem. GNU tar does the extraction, as root, so that owners, modes,
 * symlinks and hard links are what the layers say. A layer with a whiteout is refused, not
 * half-applied: neither jib's layers nor the project's base carry any.
 */
public final class RootfsUnpacker {

  /** One layer of a few hundred MB takes seconds; a stuck tar is stopped after this. */
  static final long LAYER_TIMEOUT_SECONDS = 300;

  private RootfsUnpacker() {}

  public static void unpack(Path imageTar, Path rootfs) throws IOException, InterruptedException {
    unpackLayers(imageTar, rootfs, 0);
  }

  /**
   * Unpacks the layers from index {@code fromLayer} on (0: all of them); e.g. 1 puts jib's
   * application layers onto a base already unpacked there.
   */
  public static void unpackLayers(Path imageTar, Path rootfs, int fromLayer)
      throws IOException, InterruptedException {
    try (DockerArchive image = DockerArchive.open(imageTar)) {
      unpackLayers(image, rootfs, fromLayer);
    }
  }

  /** As {@link #unpackLayers(Path, Path, int)}, for an image already opened (and checked). */
  public static void unpackLayers(DockerArchive image, Path rootfs, int fromLayer)
      throws IOException, InterruptedException {
    Path imageTar = image.path();
    Files.createDirectories(rootfs);
    try (TarFile archive = new TarFile(imageTar)) {
      if (image.whiteouts() > 0) {
        throw new IllegalArgumentException(
            imageTar + ": its layers hold " + image.whiteouts() + " whiteouts; not supported");
      }
      List<String> layers = image.layerPaths();
      if (fromLayer < 0 || fromLayer >= layers.size()) {
        throw new IllegalArgumentException(
            imageTar + " has " + layers.size() + " layers; cannot start at " + fromLayer);
      }
      for (String layer : layers.subList(fromLayer, layers.size())) {
        extract(archive, imageTar, layer, rootfs);
      }
    }
  }

  private static void extract(TarFile archive, Path imageTar, String layer, Path rootfs)
      throws IOException, InterruptedException {
    TarArchiveEntry blobEntry =
        archive.getEntries().stream()
            .filter(
                e -> DockerArchive.normalize(e.getName()).equals(DockerArchive.normalize(layer)))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException(imageTar + ": no layer " + layer));
    Process tar =
        new ProcessBuilder(
                List.of(
                    "tar",
                    "--extract",
                    "--numeric-owner",
                    "--same-permissions",
                    "--same-owner",
                    "--file=-",
                    "--directory=" + rootfs))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (InputStream blob = archive.getInputStream(blobEntry);
        OutputStream stdin = tar.getOutputStream()) {
      InputStream in = new java.io.BufferedInputStream(blob, 1 << 16);
      in.mark(2);
      boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
      in.reset();
      (gzip ? new GZIPInputStream(in, 1 << 16) : in).transferTo(stdin);
    }
    if (!tar.waitFor(LAYER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      tar.destroyForcibly();
      throw new IOException(
          "tar did not unpack " + layer + " within " + LAYER_TIMEOUT_SECONDS + " s");
    }
    if (tar.exitValue() != 0) {
      throw new IOException("tar failed (exit " + tar.exitValue() + ") unpacking " + layer);
    }
  }
}

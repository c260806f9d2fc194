package io.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The images CI pushed ({@code IMAGE_REGISTRY=<registry> IMAGE_BASE=test ./conveyor images}, to a
 * registry of its own on loopback), pulled back over the registry HTTP API the way a node's
 * container runtime pulls them: the tag resolves to a manifest whose digest the registry states,
 * every blob it names is served with that digest and size, every layer unpacks to its config's diff
 * id, and the image is the one the other tests ran: its id equals its tarball's. A push that sent
 * other bytes than were tested (a rebuild in between, a class archive missing from the pushed
 * sidecar) fails here.
 *
 * <p>Where to look: {@code CONVEYOR_REGISTRY=host:port/prefix} ({@code .ci/run} sets it). Without
 * it the test is skipped saying so, or fails under {@code CONVEYOR_REQUIRE_IMAGES=1} (CI).
 */
class RegistryImagesTest {

  private static final String MANIFEST_TYPES =
      "application/vnd.docker.distribution.manifest.v2+json,"
          + " application/vnd.oci.image.manifest.v1+json";
  private static final Duration TIMEOUT = Duration.ofMinutes(2);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The diff id of each layer blob already pulled: the base layer is in all five images. */
  private static final Map<String, String> PULLED_LAYERS = new HashMap<>();

  private static String registry;
  private static HttpClient http;

  @BeforeAll
  static void aRegistryWasGiven() {
    registry = System.getenv("CONVEYOR_REGISTRY");
    boolean required = "1".equals(System.getenv("CONVEYOR_REQUIRE_IMAGES"));
    if ((registry == null || registry.isBlank()) && required) {
      fail(
          "CONVEYOR_REQUIRE_IMAGES=1 but no CONVEYOR_REGISTRY: .ci/run pushes the images to a"
              + " loopback registry (docker-registry, ./conveyor deps) and names it there");
    }
    assumeTrue(
        registry != null && !registry.isBlank(),
        "no CONVEYOR_REGISTRY=host:port/prefix: nothing pushed to pull back (.ci/run does it)");
    if (registry.indexOf('/') <= 0) {
      fail("CONVEYOR_REGISTRY must be host:port/prefix, got " + registry);
    }
    for (ImagesTest.Binary binary : ImagesTest.Binary.values()) {
      if (!Files.isRegularFile(binary.tarball())) {
        fail(binary.tarball() + " is missing: the pushed images are compared with the tarballs");
      }
    }
    http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
  }

  @ParameterizedTest
  @EnumSource(ImagesTest.Binary.class)
  void thePushedImageIsTheTestedOne(ImagesTest.Binary binary) throws Exception {
    DockerArchive.Identity tested = DockerArchive.identityOf(binary.tarball());
    String tag = tagOf(tested.repoTags().get(0));
    String repository = registry.substring(registry.indexOf('/') + 1) + "/" + binary.image;

    HttpResponse<byte[]> manifestResponse =
        get("/v2/" + repository + "/manifests/" + tag, MANIFEST_TYPES);
    assertThat(manifestResponse.statusCode())
        .as("%s:%s in %s", repository, tag, registry)
        .isEqualTo(200);
    byte[] manifestBytes = manifestResponse.body();
    assertThat(manifestResponse.headers().firstValue("Docker-Content-Digest"))
        .as("the digest the registry states for the manifest is the manifest's")
        .hasValue("sha256:" + Sha256.hex(manifestBytes));
    JsonNode manifest = JSON.readTree(manifestBytes);

    JsonNode configRef = manifest.path("config");
    byte[] configBytes =
        getBlob(repository, configRef.path("digest").asText(), configRef.path("size").asLong());
    assertThat(configRef.path("digest").asText())
        .as("%s: the pushed image id is its tarball's (what the other tests ran)", binary.image)
        .isEqualTo(tested.imageId());

    JsonNode diffIds = JSON.readTree(configBytes).path("rootfs").path("diff_ids");
    JsonNode layers = manifest.path("layers");
    assertThat(layers.size()).as("layers against the config's diff ids").isEqualTo(diffIds.size());
    List<String> pulled = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      pulled.add(pullLayer(repository, layer.path("digest").asText(), layer.path("size").asLong()));
    }
    List<String> expected = new ArrayList<>();
    diffIds.forEach(d -> expected.add(d.asText()));
    assertThat(pulled).as("each layer, unpacked, is its diff id").isEqualTo(expected);

    JsonNode tags = JSON.readTree(get("/v2/" + repository + "/tags/list", "*/*").body());
    List<String> listed = new ArrayList<>();
    tags.path("tags").forEach(t -> listed.add(t.asText()));
    assertThat(listed).contains(tag);
  }

  /** The tag of {@code ghcr.io/conveyor-etl/conveyor-router:0.1.0}: {@code 0.1.0}. */
  static String tagOf(String reference) {
    int colon = reference.lastIndexOf(':');
    if (colon < reference.lastIndexOf('/') || colon < 0) {
      throw new IllegalArgumentException("no tag in " + reference);
    }
    return reference.substring(colon + 1);
  }

  private static HttpResponse<byte[]> get(String path, String accept) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://" + registryHost() + path))
            .header("Accept", accept)
            .timeout(TIMEOUT)
            .GET()
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
  }

  private static byte[] getBlob(String repository, String digest, long size) throws Exception {
    HttpResponse<byte[]> response = get("/v2/" + repository + "/blobs/" + digest, "*/*");
    assertThat(response.statusCode()).as("blob %s of %s", digest, repository).isEqualTo(200);
    assertThat((long) response.body().length).as("size of %s", digest).isEqualTo(size);
    assertThat("sha256:" + Sha256.hex(response.body())).as("content of blob").isEqualTo(digest);
    return response.body();
  }

  /**
   * Streams one layer blob, checking its digest and size as pulled and returning the digest of the
   * tar inside (the diff id); a blob already pulled for an earlier image is not pulled again.
   */
  private static String pullLayer(String repository, String digest, long size) throws Exception {
    String known = PULLED_LAYERS.get(digest);
    if (known != null) {
      // Pulled already from another repository: blobs are linked per repository, so this one
      // must serve it too; only the download is saved.
      HttpResponse<Void> head =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://" + registryHost() + "/v2/" + repository + "/blobs/" + digest))
                  .timeout(TIMEOUT)
                  .method("HEAD", HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      assertThat(head.statusCode()).as("layer %s in %s", digest, repository).isEqualTo(200);
      assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(size);
      assertThat(head.headers().firstValue("Docker-Content-Digest")).hasValue(digest);
      return known;
    }
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://" + registryHost() + "/v2/" + repository + "/blobs/" + digest))
            .timeout(TIMEOUT)
            .GET()
            .build();
    HttpResponse<InputStream> response =
        http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(response.statusCode()).as("layer %s of %s", digest, repository).isEqualTo(200);
    MessageDigest compressed = Sha256.newDigest();
    CountingInputStream counted =
        new CountingInputStream(new DigestInputStream(response.body(), compressed));
    String diffId;
    try (InputStream tar = new GZIPInputStream(counted, 1 << 16)) {
      diffId = "sha256:" + Sha256.hexOfStream(tar);
      // The gzip stream may end before the blob does (padding): the digest covers every byte.
      counted.transferTo(java.io.OutputStream.nullOutputStream());
    }
    assertThat(counted.count).as("size of layer %s", digest).isEqualTo(size);
    assertThat("sha256:" + HexFormat.of().formatHex(compressed.digest()))
        .as("content of layer blob")
        .isEqualTo(digest);
    PULLED_LAYERS.put(digest, diffId);
    return diffId;
  }

  private static String registryHost() {
    return registry.substring(0, registry.indexOf('/'));
  }

  /** Counts the bytes read through it. */
  private static final class CountingInputStream extends java.io.FilterInputStream {
    long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}

package io.conveyor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipInputStream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The five images {@code ./conveyor images} wrote to {@code target/images/}, checked for what a
 * kubelet relies on: the config (user 65532:65532, entrypoint, ports, env, working directory), the
 * files the entrypoint names (java on the PATH, the classpath, the JVM options the binary runs with
 * locally; the sidecar's class archive), and that each image's entrypoint really starts its binary
 * (the sidecar's classes loading from its archive): the layers unpacked into a directory and run as
 * uid 65532 with the root filesystem read-only, a tmpfs on /tmp (the pods' emptyDir), /proc, and a
 * network namespace of its own holding only loopback. Running them in runc, under a pod spec, is
 * the runner's job (issue 13, part 3), not this test's.
 *
 * <p>Reads the tarballs rather than building them: {@code ./conveyor images} takes a minute or
 * more, and CI ({@code .ci/run}) runs it before the tests. Without the tarballs the test is skipped
 * saying so, or fails where {@code CONVEYOR_REQUIRE_IMAGES=1} (CI, once it built them). The run
 * checks need root, {@code unshare}, {@code mount} and {@code ip}; skipped saying which is missing
 * otherwise.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImagesTest {

  static final Path REPO = repoRoot();
  static final Path IMAGES = REPO.resolve("target/images");
  static final String USER = "65532:65532";
  static final Duration START_DEADLINE = Duration.ofSeconds(90);

  /** The sidecar's class-data-sharing archive, trained by ./conveyor images on the image itself. */
  static final String SIDECAR_ARCHIVE = "/app/conveyor-sidecar.jsa";

  /**
   * grpc-netty-shaded's native libraries as files (BoringSSL, epoll), which Netty loads from the
   * sidecar's {@code java.library.path} instead of copying them out of the jar into /tmp.
   */
  static final String SIDECAR_NATIVE = "/app/native";

  /** The sidecar's JIT profiles, java argfiles (io.conveyor.common.contract.SidecarProfile). */
  static final String SIDECAR_PROFILES = "/app/profiles";

  static final List<String> SIDECAR_PROFILE_FILES =
      List.of("compact.options", "throughput.options");

  static final List<String> SIDECAR_NATIVE_LIBRARIES =
      List.of(
          "libio_grpc_netty_shaded_netty_tcnative_linux_x86_64.so",
          "libio_grpc_netty_shaded_netty_tcnative_linux_aarch_64.so",
          "libio_grpc_netty_shaded_netty_transport_native_epoll_x86_64.so",
          "libio_grpc_netty_shaded_netty_transport_native_epoll_aarch_64.so");

  /** What each image must be; the jib settings in the modules' POMs must agree. */
  enum Binary {
    SIDECAR(
        "conveyor-sidecar",
        "io.conveyor.sidecar.SidecarMain",
        List.of(
            "@/app/jvm.options",
            "-Djava.library.path=" + SIDECAR_NATIVE,
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:SharedArchiveFile=" + SIDECAR_ARCHIVE,
            "-Xshare:auto"),
        "sidecar/jvm.options",
        Set.of(9090, 9091),
        // The compact profile unless the pod's environment names another (the injector always
        // does): the JIT flags are in the profiles, not in jvm.options.
        Map.of("JDK_JAVA_OPTIONS", "@" + SIDECAR_PROFILES + "/compact.options"),
        // No configuration: the sidecar's own precise refusal (mutual TLS is the default).
        new Start(List.of(), Map.of(), "SECURITY_MODE=mtls needs TRUST_BUNDLE_FILE", 1)),
    ROUTER(
        "conveyor-router",
        "io.conveyor.router.standalone.StandaloneRouterMain",
        List.of("@/app/jvm.options", "-XX:+ExitOnOutOfMemoryError"),
        "router/jvm.options",
        Set.of(50051, 9095),
        Map.of("PIPELINES_DIR", "/pipelines"),
        // The CA on the emptyDir: the working directory is on the read-only root.
        new Start(
            List.of(),
            Map.of("CA_DIR", "/tmp/ca"),
            "conveyor-router serving SidecarCoordinator",
            null)),
    OPERATOR(
        "conveyor-operator",
        "io.conveyor.operator.OperatorMain",
        List.of("-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError"),
        null,
        Set.of(50051, 8080),
        Map.of(),
        new Start(List.of(), Map.of(), "started: admin on :8080", null)),
    WEBHOOK(
        "conveyor-webhook",
        "io.conveyor.webhook.WebhookMain",
        List.of("@/app/jvm.options", "-XX:+ExitOnOutOfMemoryError"),
        "webhook/jvm.options",
        Set.of(8443, 9090),
        Map.of(),
        new Start(List.of(), Map.of(), "HTTPS port 8443 (admin port 9090)", null)),
    EXAMPLES(
        "conveyor-examples",
        "io.conveyor.examples.support.ExamplesMain",
        List.of("-XX:MaxRAMPercentage=60", "-XX:+ExitOnOutOfMemoryError"),
        null,
        Set.of(50052, 9101, 50053, 9102, 50054, 9103),
        Map.of(),
        // One image for the demo services: the container's args pick one.
        new Start(
            List.of("sink"),
            Map.of("SECURITY_MODE", "plaintext"),
            "demo-sink: serving conveyor.etl.v1.SinkService",
            null));

    final String image;
    final String mainClass;
    final List<String> jvmFlags;
    final String jvmOptionsFile;
    final Set<Integer> ports;
    final Map<String, String> env;
    final Start start;

    Binary(
        String image,
        String mainClass,
        List<String> jvmFlags,
        String jvmOptionsFile,
        Set<Integer> ports,
        Map<String, String> env,
        Start start) {
      this.image = image;
      this.mainClass = mainClass;
      this.jvmFlags = jvmFlags;
      this.jvmOptionsFile = jvmOptionsFile;
      this.ports = ports;
      this.env = env;
      this.start = start;
    }

    Path tarball() {
      return IMAGES.resolve(image + ".tar");
    }

    List<String> entrypoint() {
      List<String> entrypoint = new ArrayList<>(List.of("java"));
      entrypoint.addAll(jvmFlags);
      entrypoint.addAll(List.of("-cp", "@/app/jib-classpath-file", mainClass));
      return entrypoint;
    }
  }

  /**
   * How a start is checked: the container's args and extra env (as a pod spec gives them), a line
   * the binary prints, and its exit code, or null when it keeps serving (then it is killed).
   */
  record Start(List<String> args, Map<String, String> env, String line, Integer exitCode) {}

  static Path rootfs;

  /** Each tarball opened (and its digests checked) once: a 140 MB image takes seconds. */
  static final Map<Binary, DockerArchive> OPENED = new java.util.EnumMap<>(Binary.class);

  static DockerArchive image(Binary binary) throws IOException {
    DockerArchive image = OPENED.get(binary);
    if (image == null) {
      image = DockerArchive.open(binary.tarball());
      OPENED.put(binary, image);
    }
    return image;
  }

  @BeforeAll
  static void imagesWereBuilt() {
    List<String> missing = new ArrayList<>();
    for (Binary binary : Binary.values()) {
      if (!Files.isRegularFile(binary.tarball())) {
        missing.add(REPO.relativize(binary.tarball()).toString());
      }
    }
    if (!missing.isEmpty() && "1".equals(System.getenv("CONVEYOR_REQUIRE_IMAGES"))) {
      fail("CONVEYOR_REQUIRE_IMAGES=1 but ./conveyor images wrote no " + missing);
    }
    assumeTrue(missing.isEmpty(), "no image tarballs " + missing + ": run ./conveyor images first");
  }

  @AfterAll
  static void removeRootfs() throws IOException, InterruptedException {
    for (DockerArchive image : OPENED.values()) {
      image.close();
    }
    if (rootfs != null) {
      run(List.of("rm", "-rf", "--one-file-system", rootfs.toString()), Duration.ofMinutes(2));
    }
  }

  @ParameterizedTest
  @EnumSource(Binary.class)
  @Order(1)
  void configIsWhatTheKubeletAndThePodSpecRelyOn(Binary binary) throws IOException {
    {
      DockerArchive image = image(binary);
      JsonNode runtime = image.runtimeConfig();
      assertThat(image.repoTags())
          .containsExactly("ghcr.io/conveyor-etl/" + binary.image + ":0.1.0");
      assertThat(runtime.path("User").asText()).isEqualTo(USER);
      assertThat(strings(runtime.path("Entrypoint"))).isEqualTo(binary.entrypoint());
      // No Cmd: a container's args are the binary's arguments (examples: the service's name).
      assertThat(runtime.path("Cmd").isMissingNode() || runtime.path("Cmd").isNull()).isTrue();
      Set<Integer> ports = new TreeSet<>();
      runtime.path("ExposedPorts").fieldNames().forEachRemaining(p -> ports.add(port(p)));
      assertThat(ports).isEqualTo(new TreeSet<>(binary.ports));
      Map<String, String> env = env(runtime);
      assertThat(env).containsAllEntriesOf(binary.env).containsKey("PATH");
      assertThat(runtime.path("Labels").path("org.opencontainers.image.title").asText())
          .isEqualTo(binary.image);
      // Reproducible: jib's fixed creation time (the same sources give the same image id).
      assertThat(image.config().path("created").asText()).isEqualTo("1970-01-01T00:00:00Z");

      // The user exists (a JVM asks for its home) and owns the working directory.
      assertThat(new String(image.read("etc/passwd"), StandardCharsets.UTF_8))
          .contains("nonroot:x:65532:65532:nonroot:/home/nonroot:");
      String workDir = runtime.path("WorkingDir").asText();
      assertThat(image.resolve(workDir).orElseThrow().uid()).isEqualTo(65532);
      // Nothing of the machine that built it: the pod's resolver and host name are the runtime's
      // to mount (debootstrap copies the build host's).
      assertThat(image.tree()).doesNotContainKeys("etc/resolv.conf", "etc/hostname");

      // "java" is found on the image's PATH, as the runtime looks it up, and is executable.
      DockerArchive.Entry javaOnPath =
          List.of(env.get("PATH").split(":")).stream()
              .map(dir -> image.resolve(dir + "/java"))
              .flatMap(Optional::stream)
              .findFirst()
              .orElseThrow(() -> new AssertionError("no java on PATH " + env.get("PATH")));
      assertThat(javaOnPath.type()).isEqualTo(DockerArchive.Type.FILE);
      assertThat(javaOnPath.executable()).isTrue();

      // Every classpath entry is in the layers, and the main class among them.
      String classpath = new String(image.read("app/jib-classpath-file"), StandardCharsets.UTF_8);
      List<String> entries = new ArrayList<>();
      for (String entry : classpath.strip().split(":")) {
        if (entry.endsWith("/*")) {
          // The java launcher's wildcard (jib's packaged mode): the folder's jars.
          String dir = entry.substring(1, entry.length() - 1);
          List<String> jars =
              image.tree().keySet().stream()
                  .filter(p -> p.startsWith(dir) && p.endsWith(".jar"))
                  .filter(p -> p.indexOf('/', dir.length()) < 0)
                  .map(p -> "/" + p)
                  .sorted()
                  .toList();
          assertThat(jars).as("jars in classpath entry %s", entry).isNotEmpty();
          entries.addAll(jars);
        } else {
          entries.add(entry);
        }
      }
      assertThat(entries).hasSizeGreaterThan(3);
      for (String entry : entries) {
        assertThat(image.resolve(entry)).as("classpath entry %s", entry).isPresent();
      }
      if (binary == Binary.SIDECAR) {
        // jib's packaged mode: jars only, which a class archive needs (JDK 17 refuses to archive
        // with a non-empty directory on the classpath); the module's own jar holds the main class.
        assertThat(entries).allSatisfy(entry -> assertThat(entry).endsWith(".jar"));
        assertThat(entries).anyMatch(entry -> entry.startsWith("/app/classpath/conveyor-sidecar"));
        DockerArchive.Entry archive = image.resolve(SIDECAR_ARCHIVE).orElseThrow();
        assertThat(archive.type()).isEqualTo(DockerArchive.Type.FILE);
        assertThat(archive.size()).as("the archive's size").isGreaterThan(1 << 20);
        // Byte for byte the libraries of the grpc-netty-shaded jar the image runs: Netty loads
        // these without a version check, so a stale copy would be a silent mismatch.
        Map<String, byte[]> shipped = nativeLibrariesOfGrpcJar(image);
        for (String library : SIDECAR_NATIVE_LIBRARIES) {
          DockerArchive.Entry file = image.resolve(SIDECAR_NATIVE + "/" + library).orElseThrow();
          assertThat(file.type()).as(library).isEqualTo(DockerArchive.Type.FILE);
          assertThat(image.read(SIDECAR_NATIVE.substring(1) + "/" + library))
              .as("%s against the grpc-netty-shaded jar's", library)
              .isEqualTo(shipped.get(library));
        }
      } else {
        assertThat(image.tree())
            .containsKey("app/classes/" + binary.mainClass.replace('.', '/') + ".class");
        assertThat(image.tree()).doesNotContainKey("app/conveyor-sidecar.jsa");
      }
      // BouncyCastle's jars unsigned (a later layer in place of jib's signed copies): a class
      // archive leaves the classes of signed jars out, and each class loaded from a signed jar
      // is checked against its manifest's digests, at every start.
      List<String> bouncyCastle =
          image.tree().keySet().stream()
              .filter(path -> path.matches("app/libs/bc(prov|util|pkix)-jdk18on-[^/]+\\.jar"))
              .toList();
      assertThat(bouncyCastle).as("BouncyCastle's jars in /app/libs").hasSize(3);
      for (String jar : bouncyCastle) {
        assertThat(entryNames(image.read(jar)))
            .as("%s: classes, and no signature", jar)
            .anyMatch(name -> name.startsWith("org/bouncycastle/") && name.endsWith(".class"))
            .noneMatch(name -> name.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)"));
      }
      // Nothing of the application is writable by the user it runs as.
      assertThat(image.tree().values())
          .filteredOn(e -> e.path().startsWith("app/"))
          .allSatisfy(e -> assertThat(e.uid()).isZero())
          .allSatisfy(e -> assertThat(e.mode() & 0022).isZero());

      // The JVM options the binary runs with locally, byte for byte.
      if (binary.jvmOptionsFile != null) {
        assertThat(new String(image.read("app/jvm.options"), StandardCharsets.UTF_8))
            .as("/app/jvm.options in %s (stale? ./conveyor images)", binary.image)
            .isEqualTo(Files.readString(REPO.resolve(binary.jvmOptionsFile)));
      } else {
        assertThat(image.tree()).doesNotContainKey("app/jvm.options");
      }
      if (binary == Binary.SIDECAR) {
        for (String profile : SIDECAR_PROFILE_FILES) {
          assertThat(new String(image.read("app/profiles/" + profile), StandardCharsets.UTF_8))
              .as("%s/%s (stale? ./conveyor images)", SIDECAR_PROFILES, profile)
              .isEqualTo(Files.readString(REPO.resolve("sidecar/profiles/" + profile)));
        }
      } else {
        assertThat(image.tree().keySet()).noneMatch(path -> path.startsWith("app/profiles"));
      }
      assertThat(image.whiteouts()).isZero();
    }
  }

  /** The names of the entries of a jar. */
  static List<String> entryNames(byte[] jar) throws IOException {
    List<String> names = new ArrayList<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(jar))) {
      for (var entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
        names.add(entry.getName());
      }
    }
    return names;
  }

  /** The native libraries inside the image's grpc-netty-shaded jar, by file name. */
  static Map<String, byte[]> nativeLibrariesOfGrpcJar(DockerArchive image) throws IOException {
    List<String> jars =
        image.tree().keySet().stream()
            .filter(path -> path.matches("app/libs/grpc-netty-shaded-[^/]+\\.jar"))
            .toList();
    assertThat(jars).as("the grpc-netty-shaded jar in /app/libs").hasSize(1);
    Map<String, byte[]> libraries = new HashMap<>();
    try (ZipInputStream zip =
        new ZipInputStream(new ByteArrayInputStream(image.read(jars.get(0))))) {
      for (var entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
        if (entry.getName().startsWith("META-INF/native/lib")) {
          libraries.put(entry.getName().substring("META-INF/native/".length()), zip.readAllBytes());
        }
      }
    }
    return libraries;
  }

  /** All five share the base's one layer, so it is unpacked once for the run checks. */
  @Test
  @Order(2)
  void everyImageIsTheProjectsBaseAndItsJavaRunsAsNonrootWithItsClassArchive() throws Exception {
    assumeRunnable();
    String baseLayer = null;
    for (Binary binary : Binary.values()) {
      String first = image(binary).config().path("rootfs").path("diff_ids").get(0).asText();
      if (baseLayer == null) {
        baseLayer = first;
      }
      assertThat(first).as(binary.image + "'s base layer").isEqualTo(baseLayer);
    }
    rootfs = Files.createTempDirectory("conveyor-image-rootfs");
    RootfsUnpacker.unpackLayers(image(Binary.SIDECAR), rootfs, 0);

    // -Xshare:on fails instead of falling back: the JDK's own class archive is valid as unpacked.
    Result version =
        runInContainer(List.of("java", "-Xshare:on", "-version"), Map.of(), null, null);
    assertThat(version.exitCode()).as(version.output()).isZero();
    assertThat(version.output()).contains("openjdk version \"17.").contains("sharing");
  }

  @ParameterizedTest
  @EnumSource(Binary.class)
  @Order(3)
  void theEntrypointStartsTheBinaryOnAReadOnlyRootAsNonroot(Binary binary) throws Exception {
    assumeRunnable();
    assumeTrue(rootfs != null, "the base was not unpacked (see the test before)");
    run(List.of("rm", "-rf", rootfs.resolve("app").toString()), Duration.ofMinutes(1));
    RootfsUnpacker.unpackLayers(image(binary), rootfs, 1);
    List<String> command = new ArrayList<>(binary.entrypoint());
    Map<String, String> env = new LinkedHashMap<>(env(image(binary).runtimeConfig()));
    env.putAll(binary.start.env());
    command.addAll(binary.start.args());

    Result result = runInContainer(command, env, binary.start.line(), binary.start.exitCode());

    assertThat(result.output()).as("output of %s", command).contains(binary.start.line());
    if (binary.start.exitCode() != null) {
      assertThat(result.exitCode()).as(result.output()).isEqualTo(binary.start.exitCode());
    }
    // Nothing that writes to the read-only root, nothing the JVM could not start with, no class
    // archive it had to leave aside (-Xshare:auto says so in one warning and goes on without it).
    assertThat(result.output())
        .doesNotContain("Read-only file system")
        .doesNotContain("[warning][cds")
        .doesNotContain("Unrecognized VM option")
        .doesNotContain("Could not find or load main class");
  }

  /**
   * The sidecar image's own java, in the image, with the image's entrypoint but {@code -Xshare:on}
   * (fail rather than fall back) and class loading logged: the archive maps, and the sidecar's
   * classes come from it, not from the jars. A stale archive (another JDK build, a jar of another
   * size or time) or a missing one stops this JVM before main, so the test fails then.
   */
  @Test
  @Order(4)
  void theSidecarsClassesLoadFromTheClassArchiveTheImageShips() throws Exception {
    assumeRunnable();
    assumeTrue(rootfs != null, "the base was not unpacked (see the test before)");
    run(List.of("rm", "-rf", rootfs.resolve("app").toString()), Duration.ofMinutes(1));
    RootfsUnpacker.unpackLayers(image(Binary.SIDECAR), rootfs, 1);
    List<String> command = new ArrayList<>();
    for (String arg : Binary.SIDECAR.entrypoint()) {
      command.add(arg.equals("-Xshare:auto") ? "-Xshare:on" : arg);
      if (arg.equals("java")) {
        command.add("-Xlog:class+load=info");
      }
    }
    assertThat(command).contains("-Xshare:on", "-XX:SharedArchiveFile=" + SIDECAR_ARCHIVE);
    Map<String, String> env = env(image(Binary.SIDECAR).runtimeConfig());

    // No configuration: the sidecar starts, loads its configuration classes and refuses (exit 1).
    Result result = runInContainer(command, env, Binary.SIDECAR.start.line(), 1);

    assertThat(result.exitCode()).as(result.output()).isEqualTo(1);
    assertThat(result.output())
        .contains("io.conveyor.sidecar.SidecarMain source: shared objects file (top)")
        .contains(Binary.SIDECAR.start.line());
    List<String> loaded = result.output().lines().filter(l -> l.contains("[class,load]")).toList();
    List<String> conveyor = loaded.stream().filter(l -> l.contains(" io.conveyor.")).toList();
    assertThat(conveyor)
        .hasSizeGreaterThan(10)
        .allSatisfy(l -> assertThat(l).endsWith("source: shared objects file (top)"));
    // Of the classes from the image's jars, nearly all come from the archive; what stays on the
    // jars are the few a dynamic archive cannot hold (Netty's JFR event classes).
    long fromArchive = loaded.stream().filter(l -> l.endsWith("(top)")).count();
    long fromJars = loaded.stream().filter(l -> l.contains("source: file:/app/")).count();
    assertThat(fromArchive).as("classes from the archive").isGreaterThan(19 * fromJars);
  }

  /**
   * Each profile, named in the environment as the injector names it, decides the sidecar JVM's JIT
   * in the image: the flags the image's java ends up with, after {@code @/app/jvm.options} (a JIT
   * flag there would override the profile: the launcher puts the variable's arguments first).
   */
  @ParameterizedTest
  @ValueSource(strings = {"compact", "throughput"})
  @Order(5)
  void theProfileInTheEnvironmentDecidesTheSidecarsJit(String profile) throws Exception {
    assumeRunnable();
    assumeTrue(rootfs != null, "the base was not unpacked (see the test before)");
    run(List.of("rm", "-rf", rootfs.resolve("app").toString()), Duration.ofMinutes(1));
    RootfsUnpacker.unpackLayers(image(Binary.SIDECAR), rootfs, 1);
    List<String> command = new ArrayList<>(List.of("java"));
    command.addAll(Binary.SIDECAR.jvmFlags);
    command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
    Map<String, String> env = new LinkedHashMap<>(env(image(Binary.SIDECAR).runtimeConfig()));
    env.put("JDK_JAVA_OPTIONS", "@" + SIDECAR_PROFILES + "/" + profile + ".options");

    Result result = runInContainer(command, env, null, 0);

    assertThat(result.exitCode()).as(result.output()).isZero();
    Map<String, String> flags = new HashMap<>();
    result
        .output()
        .lines()
        .map(String::trim)
        .map(l -> l.split("\\s+"))
        .filter(f -> f.length >= 4 && f[2].equals("="))
        .forEach(f -> flags.put(f[1], f[3]));
    if (profile.equals("compact")) {
      assertThat(flags)
          .containsEntry("TieredStopAtLevel", "1")
          .containsEntry("CICompilerCount", "1");
    } else {
      assertThat(flags)
          .containsEntry("TieredStopAtLevel", "4")
          .containsEntry("TieredCompilation", "true")
          .containsEntry("CICompilerCount", "2")
          .containsEntry("ReservedCodeCacheSize", Long.toString(48L << 20));
    }
    // The rest of jvm.options holds for both.
    assertThat(flags).containsEntry("UseSerialGC", "true").containsEntry("MaxHeapSize", "33554432");
  }

  @Test
  @Order(6)
  void theRoutersDefaultCaFolderIsOnTheReadOnlyRootAndItSaysSo() throws Exception {
    assumeRunnable();
    assumeTrue(rootfs != null, "the base was not unpacked (see the test before)");
    run(List.of("rm", "-rf", rootfs.resolve("app").toString()), Duration.ofMinutes(1));
    RootfsUnpacker.unpackLayers(image(Binary.ROUTER), rootfs, 1);
    Map<String, String> env = env(image(Binary.ROUTER).runtimeConfig());

    Result result = runInContainer(Binary.ROUTER.entrypoint(), env, "CA_DIR=", 2);

    assertThat(result.exitCode()).as(result.output()).isEqualTo(2);
    assertThat(result.output()).contains("conveyor-router: CA_DIR=.conveyor/ca");
  }

  record Result(int exitCode, String output) {}

  /**
   * Runs {@code command} in the unpacked image: a mount namespace where the root is bound read-only
   * with a tmpfs on /tmp and a fresh /proc, a network namespace with only loopback, as uid/gid
   * 65532 in the image's working directory, with exactly {@code env}. Returns once the process
   * exits or, when {@code exitCode} is null, once it printed {@code line} (it is then killed with
   * its namespaces). Bounded by {@link #START_DEADLINE}.
   *
   * <p>The shell stays the pid namespace's init, as root, and runs the binary as its child: {@code
   * --kill-child} has the kernel SIGKILL that init when the outer {@code unshare} dies, which ends
   * every process of the namespace. Exec'ing the binary instead made it the init, and its switch to
   * uid 65532 cleared that death signal: the binaries that keep serving outlived the test.
   */
  static Result runInContainer(
      List<String> command, Map<String, String> env, String line, Integer exitCode)
      throws Exception {
    String setup =
        "set -e; r=\"$1\"; shift; ip link set lo up;"
            + " mount --bind \"$r\" \"$r\"; mount -o remount,bind,ro \"$r\";"
            + " mount -t tmpfs -o mode=1777,size=64m tmpfs \"$r/tmp\";"
            + " mount -t proc proc \"$r/proc\";"
            + " unshare --root=\"$r\" --wd=/home/nonroot --setgid=65532 --setuid=65532 -- \"$@\"";
    List<String> full =
        new ArrayList<>(
            List.of(
                "unshare",
                "--mount",
                "--net",
                "--pid",
                "--kill-child",
                "sh",
                "-c",
                setup,
                "sh",
                rootfs.toString()));
    full.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true);
    builder.environment().clear();
    builder.environment().putAll(env);
    // The host's tools run before the switch of root: they need the host's PATH, not the image's.
    builder
        .environment()
        .put("PATH", env.getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin");
    Process process = builder.start();
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = out.readLine()) != null; ) {
                  lines.add(l);
                }
              } catch (IOException ignored) {
                // The process was killed: what was read is the output.
              }
            },
            "container-output");
    reader.start();
    try {
      if (exitCode == null) {
        try {
          Awaitility.await()
              .atMost(START_DEADLINE)
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () ->
                      !process.isAlive()
                          || List.copyOf(lines).stream().anyMatch(l -> l.contains(line)));
        } catch (ConditionTimeoutException e) {
          fail(
              "no '"
                  + line
                  + "' within "
                  + START_DEADLINE
                  + "; its output:\n"
                  + String.join("\n", List.copyOf(lines)));
        }
      } else if (!process.waitFor(START_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
        fail("did not exit within " + START_DEADLINE + ": " + String.join("\n", lines));
      }
    } finally {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      reader.join(TimeUnit.SECONDS.toMillis(30));
    }
    Result result = new Result(process.exitValue(), String.join("\n", List.copyOf(lines)));
    System.out.printf("%s -> exit %d:%n%s%n", command, result.exitCode(), result.output());
    return result;
  }

  static void assumeRunnable() throws IOException, InterruptedException {
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "the run checks need root (mount and network namespaces)");
    for (String tool : List.of("unshare", "mount", "ip", "tar")) {
      assumeTrue(
          run(List.of("sh", "-c", "command -v " + tool), Duration.ofSeconds(10)) == 0,
          "the run checks need " + tool);
    }
  }

  static int run(List<String> command, Duration deadline) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!process.waitFor(deadline.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException(command + " did not finish within " + deadline);
    }
    return process.exitValue();
  }

  static Map<String, String> env(JsonNode runtime) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String entry : strings(runtime.path("Env"))) {
      int eq = entry.indexOf('=');
      env.put(entry.substring(0, eq), entry.substring(eq + 1));
    }
    return env;
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  static int port(String exposed) {
    assertThat(exposed).endsWith("/tcp");
    return Integer.parseInt(exposed.substring(0, exposed.length() - 4));
  }

  static Path repoRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("conveyor")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no repository root (a folder with ./conveyor) above here");
  }
}

package io.conveyor.router.standalone;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.EnrolmentCredential;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone router's CA folder: {@code ca.crt} and {@code ca.key}, loaded when they are there
 * and created when the folder has neither, so that a restarted router keeps its root and the
 * certificates it issued keep verifying. When the router was given no bootstrap token, the folder
 * also keeps a generated one in {@code bootstrap-token} (owner-only), for the local sidecars to
 * read.
 *
 * <p>Everything happens under an exclusive lock on {@code .lock} in the folder: two routers started
 * at once on the same folder (parallel tests) end up with the same CA rather than one of them
 * reading the other's half-written files.
 */
public final class CaFolder {

  private static final Logger log = LoggerFactory.getLogger(CaFolder.class);

  static final String CERTIFICATE_FILE = "ca.crt";
  static final String KEY_FILE = "ca.key";
  static final String TOKEN_FILE = "bootstrap-token";
  private static final String LOCK_FILE = ".lock";
  private static final int GENERATED_TOKEN_BYTES = 32;

  private final CertificateAuthority authority;
  private final EnrolmentCredential.BootstrapToken bootstrapToken;

  private CaFolder(
      CertificateAuthority authority, EnrolmentCredential.BootstrapToken bootstrapToken) {
    this.authority = authority;
    this.bootstrapToken = bootstrapToken;
  }

  /**
   * Loads or creates the CA in {@code folder} (made owner-only when missing) and settles the
   * bootstrap token: {@code given} when present, else the one kept in the folder, else a new one.
   *
   * @throws IOException naming the file and the fault: unreadable files, a CA that is not one, or a
   *     folder holding one of {@code ca.crt} and {@code ca.key} without the other (never
   *     overwritten: certificates issued under the old root would stop verifying)
   */
  public static CaFolder open(
      Path folder,
      Optional<EnrolmentCredential.BootstrapToken> given,
      String trustDomain,
      Clock clock,
      SecureRandom random)
      throws IOException {
    if (!Files.isDirectory(folder)) {
      Files.createDirectories(
          folder,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    try (FileChannel lockChannel =
            FileChannel.open(
                folder.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lockChannel.lock()) {
      CertificateAuthority authority = loadOrCreate(folder, trustDomain, clock, random);
      EnrolmentCredential.BootstrapToken token =
          given.isPresent() ? given.get() : keptToken(folder, random);
      return new CaFolder(authority, token);
    }
  }

  public CertificateAuthority authority() {
    return authority;
  }

  public EnrolmentCredential.BootstrapToken bootstrapToken() {
    return bootstrapToken;
  }

  private static CertificateAuthority loadOrCreate(
      Path folder, String trustDomain, Clock clock, SecureRandom random) throws IOException {
    boolean hasCertificate = Files.exists(folder.resolve(CERTIFICATE_FILE));
    boolean hasKey = Files.exists(folder.resolve(KEY_FILE));
    if (hasCertificate && hasKey) {
      CertificateAuthority authority = CertificateAuthority.load(folder, clock, random);
      log.info(
          "loaded the CA from {} (root '{}', valid until {})",
          folder.toAbsolutePath(),
          authority.root().getSubjectX500Principal().getName(),
          authority.root().getNotAfter().toInstant());
      return authority;
    }
    if (hasCertificate || hasKey) {
      throw new IOException(
          folder.toAbsolutePath()
              + " holds "
              + (hasCertificate ? CERTIFICATE_FILE : KEY_FILE)
              + " but no "
              + (hasCertificate ? KEY_FILE : CERTIFICATE_FILE)
              + ": restore it, or empty the folder to start a new CA");
    }
    CertificateAuthority authority = CertificateAuthority.create(trustDomain, clock, random);
    authority.save(folder);
    log.info(
        "created a new CA in {} (root '{}', valid until {})",
        folder.toAbsolutePath(),
        authority.root().getSubjectX500Principal().getName(),
        authority.root().getNotAfter().toInstant());
    return authority;
  }

  private static EnrolmentCredential.BootstrapToken keptToken(Path folder, SecureRandom random)
      throws IOException {
    Path file = folder.resolve(TOKEN_FILE);
    if (Files.exists(file)) {
      String token = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new IOException(
            file.toAbsolutePath() + " is empty: delete it to have a new one made");
      }
      log.info("using the bootstrap token kept in {}", file.toAbsolutePath());
      return new EnrolmentCredential.BootstrapToken(token);
    }
    byte[] bytes = new byte[GENERATED_TOKEN_BYTES];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    // Owner-only from its creation, before the secret is written into it.
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
    log.info(
        "no BOOTSTRAP_TOKEN_FILE or BOOTSTRAP_TOKEN given: generated a bootstrap token in {}",
        file.toAbsolutePath());
    return new EnrolmentCredential.BootstrapToken(token);
  }
}

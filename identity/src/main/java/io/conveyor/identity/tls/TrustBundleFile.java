package io.conveyor.identity.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trust bundle of a file that changes under the process: the kubelet swaps a ConfigMap volume's
 * files when the ConfigMap changes, so a root rotation reaches every sidecar without a restart.
 *
 * <p>The file is looked at again at most once per {@code recheck} (its modification time and size,
 * not its content), so a handshake costs no file system call in the common case. A file that
 * becomes unreadable or malformed keeps the last good bundle in use, with one warning per distinct
 * problem: a half-written update must not take every connection down.
 */
public final class TrustBundleFile implements Supplier<TrustBundle> {

  private static final Logger log = LoggerFactory.getLogger(TrustBundleFile.class);

  /** How often a running process looks at the file again by default. */
  public static final Duration DEFAULT_RECHECK = Duration.ofSeconds(10);

  private final Path file;
  private final Clock clock;
  private final Duration recheck;

  /** How often a file that holds no bundle yet is looked for. */
  private static final Duration WHILE_MISSING = Duration.ofSeconds(1);

  private volatile TrustBundle current;
  private Instant checkedAt;
  private FileTime modified;
  private long size = -1;
  private String lastProblem;

  private TrustBundleFile(Path file, Clock clock, Duration recheck) {
    this.file = file;
    this.clock = clock;
    this.recheck = recheck;
    this.checkedAt = clock.instant().minus(recheck).minus(WHILE_MISSING);
  }

  /**
   * Reads the file now; it must hold a bundle.
   *
   * @throws IOException when it cannot be read
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static TrustBundleFile open(Path file, Clock clock, Duration recheck) throws IOException {
    Objects.requireNonNull(file, "file");
    TrustBundleFile watched = watch(file, clock, recheck);
    watched.current = TrustBundle.read(file);
    watched.modified = Files.getLastModifiedTime(file);
    watched.size = Files.size(file);
    watched.checkedAt = clock.instant();
    return watched;
  }

  /**
   * Watches a file that may not hold a bundle yet (a standalone router not started yet, which
   * creates its CA at start): {@link #get()} fails until it does, and the file is looked for every
   * second meanwhile.
   */
  public static TrustBundleFile watch(Path file, Clock clock, Duration recheck) {
    Objects.requireNonNull(file, "file");
    if (recheck.isNegative()) {
      throw new IllegalArgumentException("recheck must not be negative: " + recheck);
    }
    return new TrustBundleFile(file, clock, recheck);
  }

  public Path file() {
    return file;
  }

  /**
   * The bundle in use: the file's content as last read successfully.
   *
   * @throws IllegalStateException naming the file and the problem while it never held a bundle
   */
  @Override
  public TrustBundle get() {
    Instant now = clock.instant();
    synchronized (this) {
      Duration every = current == null ? WHILE_MISSING : recheck;
      if (!now.isBefore(checkedAt.plus(every))) {
        checkedAt = now;
        reloadIfChanged();
      }
      if (current == null) {
        throw new IllegalStateException(
            "no trust bundle yet in " + file + (lastProblem == null ? "" : ": " + lastProblem));
      }
      return current;
    }
  }

  private void reloadIfChanged() {
    try {
      FileTime nowModified = Files.getLastModifiedTime(file);
      long nowSize = Files.size(file);
      if (nowModified.equals(modified) && nowSize == size) {
        return;
      }
      TrustBundle read = TrustBundle.read(file);
      modified = nowModified;
      size = nowSize;
      lastProblem = null;
      if (!read.equals(current)) {
        log.info("trust bundle {} changed: now {} root(s)", file, read.roots().size());
        current = read;
      }
    } catch (IOException | IllegalArgumentException e) {
      String problem = e.getMessage();
      if (!Objects.equals(problem, lastProblem)) {
        lastProblem = problem;
        if (current == null) {
          log.warn("no trust bundle in {} yet; looking again every second: {}", file, problem);
        } else {
          log.warn(
              "cannot re-read the trust bundle {}; keeping the previous one: {}", file, problem);
        }
      }
    }
  }
}

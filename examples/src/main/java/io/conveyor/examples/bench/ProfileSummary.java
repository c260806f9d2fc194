package io.conveyor.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where a sidecar's CPU goes, from the collapsed stacks async-profiler writes ({@code
 * BENCH_PROFILE_DIR=dir ./conveyor bench}): each sample is put in the first category whose rule
 * matches its stack, and the shares are printed per profile. The categories answer the questions
 * the benchmark raises — what TLS costs, what HTTP/2 and gRPC cost per call, what Conveyor's own
 * code costs, and what is start-up (class loading, the JIT) rather than steady state.
 *
 * <p>Usage: {@code java -cp conveyor-examples.jar io.conveyor.examples.bench.ProfileSummary DIR}.
 */
public final class ProfileSummary {

  /** A category: a name and what a sample's stack (frames joined by ';') or leaf must contain. */
  record Category(String name, Pattern stack, Pattern leaf) {

    static Category byStack(String name, String regex) {
      return new Category(name, Pattern.compile(regex), null);
    }

    static Category byLeaf(String name, String regex) {
      return new Category(name, null, Pattern.compile(regex));
    }

    boolean matches(String stack, String leaf) {
      return (this.stack != null && this.stack.matcher(stack).find())
          || (this.leaf != null && this.leaf.matcher(leaf).find());
    }
  }

  /** In order: the first match wins, so start-up and background work are taken out first. */
  static final List<Category> CATEGORIES =
      List.of(
          Category.byStack("jit compiler", "CompileBroker|Compilation::"),
          Category.byStack(
              "gc and safepoints", "VMThread|GCTaskThread|DefNewGeneration|GenCollect"),
          Category.byStack(
              "class loading and linking",
              "defineClass|ClassLoader|SymbolTable|SystemDictionary|LinkResolver|ClassFileParser"),
          Category.byStack("discovery (port scans)", "io/conveyor/sidecar/discovery/"),
          Category.byLeaf(
              "tls: boringssl crypto and records",
              "(?i)aes|gcm|ghash|sha256|chacha|poly1305|x25519|ecdsa|p256|bssl::|EVP_|SSL_|ssl_"),
          Category.byLeaf("tls: java glue", "ReferenceCountedOpenSslEngine|SslHandler|OpenSsl"),
          Category.byLeaf(
              "system calls",
              "^(__GI_read|__GI_write|writev|readv|recv|__GI___send|__libc_recv|__libc_send|"
                  + "sendmsg|recvmsg|epoll_pwait2?|epoll_wait|syscall|__futex)"),
          Category.byStack(
              "protobuf (encoding record views and replies)", "com/google/protobuf|/wire/v1/"),
          Category.byStack("conveyor data plane", "io/conveyor/sidecar/dataplane/"),
          Category.byStack("http/2 framing (netty)", "codec/http2"),
          Category.byStack("grpc and netty, other", "io/grpc/"),
          Category.byLeaf("interpreter", "^Interpreter$"));

  /** Lines of a profile file that are not "frames count": not samples, reported apart. */
  static final String UNREADABLE = "unreadable lines";

  private ProfileSummary() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: ProfileSummary DIR (the *.collapsed files of a bench run)");
      System.exit(2);
    }
    List<Path> profiles;
    try (Stream<Path> files = Files.list(Path.of(args[0]))) {
      profiles = files.filter(p -> p.toString().endsWith(".collapsed")).sorted().toList();
    }
    if (profiles.isEmpty()) {
      System.err.println("profile: no *.collapsed file in " + args[0]);
      System.exit(2);
    }
    for (Path profile : profiles) {
      System.out.print(render(profile.getFileName().toString(), summarize(profile)));
    }
  }

  /** Samples per category (and "other"), in {@link #CATEGORIES} order. */
  static Map<String, Long> summarize(Path collapsed) throws IOException {
    Map<String, Long> samples = new LinkedHashMap<>();
    CATEGORIES.forEach(c -> samples.put(c.name(), 0L));
    samples.put("other", 0L);
    samples.put(UNREADABLE, 0L);
    try (Stream<String> lines = Files.lines(collapsed)) {
      lines.forEach(line -> count(line, samples));
    }
    return samples;
  }

  private static void count(String line, Map<String, Long> samples) {
    int space = line.lastIndexOf(' ');
    long n;
    try {
      n = space <= 0 ? -1 : Long.parseLong(line.substring(space + 1).trim());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0) {
      // Not a collapsed-stack line: counted (as lines), so that a summary of a file in another
      // format does not pass for an empty profile.
      samples.merge(UNREADABLE, 1L, Long::sum);
      return;
    }
    String stack = line.substring(0, space);
    String leaf = stack.substring(stack.lastIndexOf(';') + 1);
    String category = "other";
    for (Category c : CATEGORIES) {
      if (c.matches(stack, leaf)) {
        category = c.name();
        break;
      }
    }
    samples.merge(category, n, Long::sum);
  }

  static String render(String name, Map<String, Long> samples) {
    long unreadable = samples.getOrDefault(UNREADABLE, 0L);
    Map<String, Long> counted = new LinkedHashMap<>(samples);
    counted.remove(UNREADABLE);
    samples = counted;
    long total = samples.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "profile %s: %d samples%n", name, total));
    if (unreadable > 0) {
      out.append(
          String.format(Locale.ROOT, "  (%d lines were not collapsed stacks)%n", unreadable));
    }
    List<Map.Entry<String, Long>> rows = new ArrayList<>(samples.entrySet());
    rows.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    for (Map.Entry<String, Long> row : rows) {
      double share = total == 0 ? 0 : 100.0 * row.getValue() / total;
      out.append(String.format(Locale.ROOT, "  %5.1f%%  %s%n", share, row.getKey()));
    }
    return out.toString();
  }
}

package io.conveyor.router.standalone;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.tls.TlsProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Settings of the standalone router, read once from the environment (and the command line: a single
 * argument, or {@code --pipelines <dir>}, names the pipelines folder).
 *
 * @param bindAddress address the gRPC and admin servers listen on
 * @param grpcPort port of SidecarCoordinator ({@code ROUTER_PORT})
 * @param metricsPort port of /metrics, /healthz, /readyz ({@code METRICS_PORT})
 * @param pipelinesDir folder of Pipeline YAML files ({@code PIPELINES_DIR})
 * @param rescanInterval how often the folder is re-read ({@code PIPELINES_RESCAN_SECS})
 * @param maxSidecars registrations beyond this are refused ({@code MAX_SIDECARS})
 * @param warmUp after the router starts, how long a sidecar coming back is not yet handed a set
 *     with a pipeline some stage of which has not come back ({@code ROUTER_WARMUP_SECS}; the
 *     default is two of the sidecars' default heartbeat periods, within which each re-registers)
 * @param subsetSize most replicas of a stage one sidecar is told about ({@code ROUTER_SUBSET_SIZE},
 *     1 to {@value #MAX_SUBSET_SIZE}; see {@link RendezvousSubset})
 * @param security the router's CA and who may enrol with it
 */
public record StandaloneRouterConfig(
    String bindAddress,
    int grpcPort,
    int metricsPort,
    Path pipelinesDir,
    Duration rescanInterval,
    int maxSidecars,
    Duration warmUp,
    int subsetSize,
    Security security) {

  /** Beyond this a subset stops bounding anything a real fleet has per stage. */
  public static final int MAX_SUBSET_SIZE = RendezvousSubset.MAX_SIZE;

  /** Two default heartbeat periods: a sidecar re-registers on its first heartbeat refused. */
  public static final Duration DEFAULT_WARM_UP = Duration.ofSeconds(10);

  public static StandaloneRouterConfig from(Map<String, String> env, List<String> args) {
    EnvReader reader = new EnvReader(env);
    String bind =
        reader.ipAddress("BIND_ADDRESS", "0.0.0.0", "an IP address to listen on, e.g. 0.0.0.0");
    int grpcPort = reader.port("ROUTER_PORT", 50051);
    int metricsPort = reader.port("METRICS_PORT", 9095);
    String dir = reader.string("PIPELINES_DIR", "pipelines");
    Duration rescan = reader.seconds("PIPELINES_RESCAN_SECS", Duration.ofSeconds(5), 1, 3600);
    int maxSidecars = reader.integer("MAX_SIDECARS", 10_000, 1, 1_000_000);
    Duration warmUp = reader.seconds("ROUTER_WARMUP_SECS", DEFAULT_WARM_UP, 0, 600);
    int subsetSize =
        reader.integer("ROUTER_SUBSET_SIZE", RendezvousSubset.DEFAULT_SIZE, 1, MAX_SUBSET_SIZE);
    Security security = Security.from(reader);
    if (args.size() == 1 && !args.get(0).startsWith("-")) {
      dir = args.get(0);
    } else if (args.size() == 2 && args.get(0).equals("--pipelines")) {
      dir = args.get(1);
    } else if (!args.isEmpty()) {
      reader.problem(
          "arguments "
              + args
              + " not understood: expected none, <pipelines-dir> or --pipelines <dir>");
    }
    if (grpcPort == metricsPort) {
      reader.problem("ROUTER_PORT and METRICS_PORT must differ, both are " + grpcPort);
    }
    reader.validate();
    return new StandaloneRouterConfig(
        bind,
        grpcPort,
        metricsPort,
        Path.of(dir),
        rescan,
        maxSidecars,
        warmUp,
        subsetSize,
        security);
  }

  /** Whether the router runs its CA ({@code mtls}) or none at all ({@code plaintext}). */
  public enum SecurityMode {
    MTLS,
    PLAINTEXT
  }

  /**
   * The router's CA and who may enrol with it.
   *
   * @param mode {@code SECURITY_MODE}: {@code mtls} (the default) runs the CA and serves
   *     CertificateService; {@code plaintext} runs neither, warns at start and says so in metrics
   * @param caDir {@code CA_DIR}: where the CA's {@code ca.crt} and {@code ca.key} are loaded from,
   *     or created in when the folder has none (default {@code .conveyor/ca} under the working
   *     directory)
   * @param bootstrapToken from {@code BOOTSTRAP_TOKEN_FILE} or {@code BOOTSTRAP_TOKEN}; empty when
   *     neither is set, in which case the router keeps a generated one in {@code caDir}
   * @param tlsProvider {@code TLS_PROVIDER}: {@code openssl} (BoringSSL, the default where it
   *     loads) or {@code jdk}
   * @param certificateTtl {@code CERTIFICATE_TTL_SECS}: lifetime of each workload certificate the
   *     CA issues to a sidecar, from {@link #MIN_CERTIFICATE_TTL} to {@link
   *     CertificateAuthority#MAX_WORKLOAD_TTL} (default {@link
   *     CertificateAuthority#DEFAULT_WORKLOAD_TTL}, 24 h). Sidecars renew at about half of it, so a
   *     short one (seconds) exercises rotation in tests and demos; the router's own certificate
   *     keeps the default
   */
  public record Security(
      SecurityMode mode,
      Path caDir,
      Optional<EnrolmentCredential.BootstrapToken> bootstrapToken,
      TlsProvider tlsProvider,
      Duration certificateTtl) {

    /**
     * With the TLS provider this machine prefers (BoringSSL where it loads) and 24 h certificates.
     */
    public Security(
        SecurityMode mode,
        Path caDir,
        Optional<EnrolmentCredential.BootstrapToken> bootstrapToken) {
      this(
          mode,
          caDir,
          bootstrapToken,
          TlsProvider.preferred(),
          CertificateAuthority.DEFAULT_WORKLOAD_TTL);
    }

    /**
     * Shortest certificate lifetime accepted: a sidecar renews at about half of it, and a renewal
     * (a round trip to the CA, a new key) must fit in that half with room to retry once.
     */
    public static final Duration MIN_CERTIFICATE_TTL = Duration.ofSeconds(5);

    public static final Path DEFAULT_CA_DIR = Path.of(".conveyor", "ca");

    /** Shorter tokens are too easy to guess for what they guard: a certificate. */
    public static final int MIN_TOKEN_LENGTH = 16;

    /** Largest token file read: a token is a line, not a document. */
    static final long MAX_TOKEN_FILE_BYTES = 4096;

    static Security from(EnvReader reader) {
      SecurityMode mode = reader.enumValue("SECURITY_MODE", SecurityMode.MTLS, SecurityMode.class);
      Path caDir = Path.of(reader.string("CA_DIR", DEFAULT_CA_DIR.toString()));
      Optional<String> file = reader.raw("BOOTSTRAP_TOKEN_FILE");
      Optional<String> value = reader.raw("BOOTSTRAP_TOKEN");
      Optional<EnrolmentCredential.BootstrapToken> token = Optional.empty();
      if (file.isPresent() && value.isPresent()) {
        reader.problem("set BOOTSTRAP_TOKEN_FILE or BOOTSTRAP_TOKEN, not both");
      } else if (file.isPresent()) {
        token = readTokenFile(reader, file.get());
      } else if (value.isPresent()) {
        // Never echo the value: it is a secret, and error lines end up in logs.
        token = checked(reader, "BOOTSTRAP_TOKEN", value.get());
      }
      TlsProvider provider = TlsProvider.preferred();
      try {
        provider = TlsProvider.parse(reader.raw("TLS_PROVIDER").orElse(""));
      } catch (IllegalArgumentException e) {
        reader.problem("TLS_PROVIDER: " + e.getMessage());
      }
      Duration ttl =
          reader.seconds(
              "CERTIFICATE_TTL_SECS",
              CertificateAuthority.DEFAULT_WORKLOAD_TTL,
              MIN_CERTIFICATE_TTL.toSeconds(),
              CertificateAuthority.MAX_WORKLOAD_TTL.toSeconds());
      return new Security(mode, caDir, token, provider, ttl);
    }

    private static Optional<EnrolmentCredential.BootstrapToken> readTokenFile(
        EnvReader reader, String file) {
      String where = "BOOTSTRAP_TOKEN_FILE='" + file + "'";
      try {
        Path path = Path.of(file);
        if (Files.size(path) > MAX_TOKEN_FILE_BYTES) {
          reader.problem(where + " is larger than " + MAX_TOKEN_FILE_BYTES + " bytes");
          return Optional.empty();
        }
        return checked(reader, where, Files.readString(path, StandardCharsets.UTF_8).strip());
      } catch (IOException | InvalidPathException e) {
        reader.problem(
            where + " cannot be read: " + e.getClass().getSimpleName() + " " + e.getMessage());
        return Optional.empty();
      }
    }

    private static Optional<EnrolmentCredential.BootstrapToken> checked(
        EnvReader reader, String where, String token) {
      if (token.length() < MIN_TOKEN_LENGTH) {
        reader.problem(
            where
                + " holds a token of "
                + token.length()
                + " characters; at least "
                + MIN_TOKEN_LENGTH
                + " are required");
        return Optional.empty();
      }
      return Optional.of(new EnrolmentCredential.BootstrapToken(token));
    }
  }
}

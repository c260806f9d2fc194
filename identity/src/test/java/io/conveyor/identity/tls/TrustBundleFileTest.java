package io.conveyor.identity.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustBundleFileTest {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final MutableClock clock = new MutableClock();
  private final X509Certificate first =
      CertificateAuthority.create("conveyor.etl", clock, RANDOM).root();
  private final X509Certificate second =
      CertificateAuthority.create("conveyor.etl", clock, RANDOM).root();

  @TempDir Path dir;

  @Test
  void aChangedFileIsReadAgainOnlyAfterTheRecheckInterval() throws Exception {
    Path file = dir.resolve("ca.crt");
    Files.writeString(file, pem(first));
    TrustBundleFile bundle = TrustBundleFile.open(file, clock, Duration.ofSeconds(10));

    Files.writeString(file, pem(first) + pem(second));
    assertThat(bundle.get().roots()).containsExactly(first);
    clock.advance(Duration.ofSeconds(10));

    assertThat(bundle.get().roots()).containsExactly(first, second);
  }

  @Test
  void aFileBrokenMidUpdateKeepsTheLastGoodBundle() throws Exception {
    Path file = dir.resolve("ca.crt");
    Files.writeString(file, pem(first));
    TrustBundleFile bundle = TrustBundleFile.open(file, clock, Duration.ofSeconds(10));

    Files.writeString(file, "-----BEGIN CERTIFICATE-----\nbroken\n");
    clock.advance(Duration.ofSeconds(11));

    assertThat(bundle.get().roots()).containsExactly(first);
  }

  @Test
  void aFileThatAppearsLaterIsPickedUpWithinASecond() throws Exception {
    Path file = dir.resolve("later.crt");
    TrustBundleFile bundle = TrustBundleFile.watch(file, clock, Duration.ofSeconds(10));

    assertThatThrownBy(bundle::get)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no trust bundle yet in " + file);
    Files.writeString(file, pem(second));
    clock.advance(Duration.ofSeconds(1));

    assertThat(bundle.get().roots()).containsExactly(second);
  }

  @Test
  void aBundleWithoutCertificatesIsRefusedNamingTheFile() throws Exception {
    Path file = dir.resolve("empty.crt");
    Files.writeString(file, "nothing here");

    assertThatThrownBy(() -> TrustBundleFile.open(file, clock, Duration.ofSeconds(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(file + " holds no PEM certificate");
  }

  private static String pem(X509Certificate certificate) throws Exception {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }
}

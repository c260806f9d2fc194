package io.conveyor.identity;

import static io.conveyor.identity.CsrRejectedException.Reason.BAD_SIGNATURE;
import static io.conveyor.identity.CsrRejectedException.Reason.MALFORMED;
import static io.conveyor.identity.CsrRejectedException.Reason.NAME_MISMATCH;
import static io.conveyor.identity.CsrRejectedException.Reason.TOO_LARGE;
import static io.conveyor.identity.CsrRejectedException.Reason.WRONG_KEY_TYPE;
import static io.conveyor.identity.TestCsrs.csr;
import static io.conveyor.identity.TestCsrs.keyPair;
import static io.conveyor.identity.TestCsrs.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.CsrRejectedException.Reason;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CsrValidatorTest {

  static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "orders");
  static final WorkloadIdentity OTHER_POD = WorkloadIdentity.of("shop", "orders-1", "orders");
  static final WorkloadIdentity OTHER_NAMESPACE = WorkloadIdentity.of("bank", "orders-0", "orders");

  static final KeyPair EC_P256 = keyPair("EC", "secp256r1");

  private final CsrValidator validator = new CsrValidator();

  @Test
  void acceptsTheSidecarsOwnCsrAndKeepsItsKey() throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(TestCsrs.RANDOM);

    ValidatedCsr validated = validator.validate(CertificateRequests.csrFor(ME, keyPair), ME);

    assertThat(validated.identity()).isEqualTo(ME);
    assertThat(validated.publicKey().getEncoded()).isEqualTo(keyPair.getPublic().getEncoded());
  }

  @Test
  void acceptsRsaOf2048BitsAndMore() throws Exception {
    KeyPair rsa = keyPair("RSA", 2048);

    ValidatedCsr validated = validator.validate(csr(rsa, "SHA256withRSA", uri(ME)), ME);

    assertThat(validated.publicKey().getAlgorithm()).isEqualTo("RSA");
  }

  static Stream<Arguments> refused() {
    KeyPair rsa1024 = keyPair("RSA", 1024);
    KeyPair p384 = keyPair("EC", "secp384r1");
    KeyPair ed25519 = keyPair("Ed25519", null);
    KeyPair otherKey = keyPair("EC", "secp256r1");
    byte[] good = CertificateRequests.csrFor(ME, EC_P256);
    return Stream.of(
        // wrong key type
        row(
            "RSA 1024",
            () -> csr(rsa1024, "SHA256withRSA", uri(ME)),
            WRONG_KEY_TYPE,
            "RSA key has 1024 bits; at least 2048"),
        row(
            "EC P-384",
            () -> csr(p384, "SHA256withECDSA", uri(ME)),
            WRONG_KEY_TYPE,
            "only P-256 is accepted"),
        row(
            "Ed25519",
            () -> csr(ed25519, "Ed25519", uri(ME)),
            WRONG_KEY_TYPE,
            "key algorithm 1.3.101.112 is not accepted"),
        // bad signature
        row(
            "signed by another key",
            () ->
                csr(
                    TestCsrs.emptySubject(),
                    EC_P256.getPublic(),
                    otherKey.getPrivate(),
                    "SHA256withECDSA",
                    uri(ME)),
            BAD_SIGNATURE,
            "does not verify with the key it carries"),
        row(
            "SHA-1 signature",
            () -> csr(EC_P256, "SHA1withECDSA", uri(ME)),
            BAD_SIGNATURE,
            "signed with algorithm 1.2.840.10045.4.1"),
        // names
        row(
            "another pod",
            () -> CertificateRequests.csrFor(OTHER_POD, EC_P256),
            NAME_MISMATCH,
            "asks for spiffe://conveyor.etl/ns/shop/pod/orders-1/sa/orders but the caller is "
                + ME.toUri()),
        row(
            "another namespace",
            () -> CertificateRequests.csrFor(OTHER_NAMESPACE, EC_P256),
            NAME_MISMATCH,
            "asks for spiffe://conveyor.etl/ns/bank/"),
        row(
            "another trust domain",
            () ->
                CertificateRequests.csrFor(
                    new WorkloadIdentity("evil.example", "shop", "orders-0", "orders"), EC_P256),
            NAME_MISMATCH,
            "asks for spiffe://evil.example/"),
        row(
            "a DNS SAN besides its URI",
            () ->
                csr(
                    EC_P256,
                    "SHA256withECDSA",
                    uri(ME),
                    new GeneralName(GeneralName.dNSName, "conveyor-router.conveyor-system.svc")),
            NAME_MISMATCH,
            "asks for DNS name conveyor-router.conveyor-system.svc"),
        row(
            "an IP SAN",
            () ->
                csr(EC_P256, "SHA256withECDSA", new GeneralName(GeneralName.iPAddress, "10.0.0.1")),
            NAME_MISMATCH,
            "asks for IP address"),
        row(
            "an email SAN",
            () ->
                csr(
                    EC_P256,
                    "SHA256withECDSA",
                    uri(ME),
                    new GeneralName(GeneralName.rfc822Name, "a@b.c")),
            NAME_MISMATCH,
            "asks for email address a@b.c"),
        row(
            "two URIs",
            () -> csr(EC_P256, "SHA256withECDSA", uri(ME), uri(OTHER_POD)),
            NAME_MISMATCH,
            "asks for 2 URI SANs"),
        row(
            "no SAN",
            () -> csr(EC_P256, "SHA256withECDSA"),
            NAME_MISMATCH,
            "asks for no URI SAN; it must ask for " + ME.toUri()),
        row(
            "a subject",
            () ->
                csr(
                    new X500Name("CN=conveyor-router"),
                    EC_P256.getPublic(),
                    EC_P256.getPrivate(),
                    "SHA256withECDSA",
                    uri(ME)),
            NAME_MISMATCH,
            "asks for subject 'CN=conveyor-router'"),
        // size and shape
        row(
            "8 KiB + 1 of anything",
            () -> new byte[CsrValidator.DEFAULT_MAX_BYTES + 1],
            TOO_LARGE,
            "8193 bytes, more than the 8192 accepted"),
        row("empty", () -> new byte[0], MALFORMED, "the CSR is empty"),
        row("not DER", () -> "hello, CA".getBytes(), MALFORMED, "not a DER-encoded PKCS#10"),
        row(
            "truncated",
            () -> Arrays.copyOf(good, good.length - 10),
            MALFORMED,
            "not a DER-encoded PKCS#10"),
        row(
            "trailing bytes",
            () -> Arrays.copyOf(good, good.length + 4),
            MALFORMED,
            "not a DER-encoded PKCS#10"));
  }

  private static Arguments row(
      String name, Supplier<byte[]> csr, Reason reason, String messagePart) {
    return Arguments.of(name, csr, reason, messagePart);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusesWithAReasonAndAMessageNamingTheFault(
      String name, Supplier<byte[]> csr, Reason reason, String messagePart) {
    byte[] der = csr.get();

    assertThatThrownBy(() -> validator.validate(der, ME))
        .isInstanceOfSatisfying(
            CsrRejectedException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessageContaining(messagePart);
  }

  @Test
  void refusesAnOversizedCsrEvenWhenItIsWellFormed() throws Exception {
    byte[] der = CertificateRequests.csrFor(ME, EC_P256);
    CsrValidator tight = new CsrValidator(der.length - 1);

    assertThatThrownBy(() -> tight.validate(der, ME))
        .isInstanceOfSatisfying(
            CsrRejectedException.class, e -> assertThat(e.reason()).isEqualTo(TOO_LARGE));
    assertThat(new CsrValidator(der.length).validate(der, ME).identity()).isEqualTo(ME);
  }

  @Test
  void readsTheRequestedIdentityWithoutTrustingIt() throws Exception {
    // Signed by another key: the claim is read all the same; validate is what refuses it.
    KeyPair otherKey = keyPair("EC", "secp256r1");
    byte[] forged =
        csr(
            TestCsrs.emptySubject(),
            EC_P256.getPublic(),
            otherKey.getPrivate(),
            "SHA256withECDSA",
            uri(OTHER_NAMESPACE));

    assertThat(validator.requestedIdentity(CertificateRequests.csrFor(ME, EC_P256))).isEqualTo(ME);
    assertThat(validator.requestedIdentity(forged)).isEqualTo(OTHER_NAMESPACE);
  }

  static Stream<Arguments> noRequestedIdentity() {
    return Stream.of(
        row("empty", () -> new byte[0], MALFORMED, "the CSR is empty"),
        row("not DER", () -> new byte[] {1, 2, 3}, MALFORMED, "not a DER-encoded PKCS#10"),
        row(
            "no SAN",
            () -> csr(EC_P256, "SHA256withECDSA"),
            NAME_MISMATCH,
            "asks for 0 URI SANs; it must ask for exactly one"),
        row(
            "two URI SANs",
            () -> csr(EC_P256, "SHA256withECDSA", uri(ME), uri(OTHER_POD)),
            NAME_MISMATCH,
            "asks for 2 URI SANs"),
        row(
            "a URI that is no workload identity",
            () ->
                csr(
                    EC_P256,
                    "SHA256withECDSA",
                    new GeneralName(GeneralName.uniformResourceIdentifier, "https://example.com/")),
            NAME_MISMATCH,
            "not a workload identity"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("noRequestedIdentity")
  void aCsrWithoutOneWorkloadIdentityHasNoRequestedIdentity(
      String name, Supplier<byte[]> csr, Reason reason, String messagePart) {
    byte[] der = csr.get();

    assertThatThrownBy(() -> validator.requestedIdentity(der))
        .isInstanceOfSatisfying(
            CsrRejectedException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessageContaining(messagePart);
  }

  @Test
  void anOversizedCsrIsNotParsedForItsIdentity() {
    byte[] der = CertificateRequests.csrFor(ME, EC_P256);

    assertThatThrownBy(() -> new CsrValidator(der.length - 1).requestedIdentity(der))
        .isInstanceOfSatisfying(
            CsrRejectedException.class, e -> assertThat(e.reason()).isEqualTo(TOO_LARGE));
  }
}

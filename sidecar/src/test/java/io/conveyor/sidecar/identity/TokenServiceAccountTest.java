package io.conveyor.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TokenServiceAccountTest {

  private static String jwt(String payload) {
    Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
    return encoder.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + encoder.encodeToString(payload.getBytes(StandardCharsets.UTF_8))
        + ".c2lnbmF0dXJl";
  }

  @Test
  void theServiceAccountIsTheLastPartOfAServiceAccountSubject() {
    String token =
        jwt(
            "{\"aud\":[\"conveyor.etl\"],\"sub\":\"system:serviceaccount:shop:orders-writer\","
                + "\"kubernetes.io\":{\"namespace\":\"shop\"}}");

    assertThat(TokenServiceAccount.of(token + "\n")).contains("orders-writer");
  }

  @Test
  void aTokenThatIsNotAServiceAccountJwtNamesNothing() {
    assertThat(TokenServiceAccount.of("not-a-jwt")).isEmpty();
    assertThat(TokenServiceAccount.of("a.%%%.c")).isEmpty();
    assertThat(TokenServiceAccount.of(jwt("{\"sub\":\"alice@example.com\"}"))).isEmpty();
    assertThat(TokenServiceAccount.of(jwt("{\"sub\":\"system:serviceaccount:SHOP:x\"}"))).isEmpty();
  }
}

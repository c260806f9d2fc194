package io.conveyor.webhook.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conveyor.testkit.RenderedManifests;
import io.conveyor.webhook.WebhookApp;
import io.conveyor.webhook.admission.WebhookDispatch.Decision;
import io.conveyor.webhook.mutation.InjectionKeys;
import io.conveyor.webhook.testing.Fixtures;
import io.conveyor.webhook.testing.TlsClients;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every row of the behaviour table in webhook/README.md ("What a pod gets"), as a cluster would
 * decide it: the API server's choice of webhook entry from the <i>rendered</i> {@code
 * MutatingWebhookConfiguration} (selectors, CEL match conditions evaluated by Google's CEL), then
 * the real webhook over HTTPS with a real AdmissionReview, then what the user gets: the pod
 * injected, created unchanged, or refused with a message.
 *
 * <p>The table is read from the README: a row without cases here, or cases for a row that is not
 * there, fails {@link #everyRowOfTheReadmeTableHasCasesAndEveryCaseARow}.
 */
class AdmissionTableTest {

  private static final Path README =
      RenderedManifests.repositoryRoot().resolve("webhook/README.md");

  private static final String POD_ENTRY = "pod.inject.conveyor.etl";
  private static final String ENABLED_ENTRY = "namespace.inject.conveyor.etl";
  private static final String DISABLED_ENTRY = "namespace-disabled.inject.conveyor.etl";

  private static final Map<String, String> NO_LABEL = Map.of();
  private static final Map<String, String> ENABLED =
      Map.of(InjectionKeys.NAMESPACE_INJECTION, "enabled");
  private static final Map<String, String> DISABLED =
      Map.of(InjectionKeys.NAMESPACE_INJECTION, "disabled");

  private static WebhookApp app;
  private static HttpClient client;
  private static WebhookDispatch apiServer;

  /** What the user sees after {@code kubectl apply}. */
  enum Result {
    /** The pod is created with the sidecar container. */
    INJECTED,
    /** The pod is created with the sidecar's credentials completed (a patch and a warning). */
    REPAIRED,
    /** The pod is created as submitted (maybe with a warning). */
    UNCHANGED,
    /** The pod is not created; the user gets a message. */
    REFUSED
  }

  /**
   * One pod submitted to one namespace.
   *
   * @param row a phrase of the README row's first cell that names it
   * @param entry the webhook entry the API server calls, or null for none
   * @param text what the refusal message or warning must contain, or null for no warning
   */
  record Case(
      String row,
      String namespace,
      Map<String, String> namespaceLabels,
      ObjectNode pod,
      String entry,
      Result result,
      String text) {
    @Override
    public String toString() {
      return row
          + " | ns "
          + namespace
          + namespaceLabels
          + " | inject="
          + pod.path("metadata").path("annotations").path(InjectionKeys.INJECT)
          + " -> "
          + result;
    }
  }

  private static ObjectNode plain(Map<String, String> annotations) {
    return Fixtures.rawPod("plain", annotations);
  }

  private static ObjectNode inject(String value) {
    return plain(Map.of(InjectionKeys.INJECT, value));
  }

  private static final String SYSTEM = "whatever the pod's annotation or the namespace's label";
  private static final String FALSE = "pod annotated `conveyor.etl/inject: \"false\"`";
  private static final String INVALID = "with anything but `\"true\"`/`\"false\"`";
  private static final String TRUE_IN_DISABLED =
      "`conveyor.etl/inject: \"true\"` in a namespace labelled `conveyor.etl/injection: disabled`";
  private static final String PLAIN_IN_DISABLED =
      "pod not annotated, in a namespace labelled `conveyor.etl/injection: disabled`";
  private static final String PLAIN_ELSEWHERE = "pod not annotated, in a namespace not labelled";
  private static final String OPTED_IN = "injected, unless";
  private static final String ALREADY = "already has a container named `conveyor-sidecar`";
  private static final String LABEL_ONLY = "carries the label `conveyor.etl/injected: \"true\"`";
  private static final String HOST_NETWORK = "`hostNetwork: true`";
  private static final String BAD_OVERRIDE = "an override annotation is invalid";

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (String ns : List.of("kube-system", "kube-public", "kube-node-lease", "conveyor-system")) {
      for (Map<String, String> labels : List.of(NO_LABEL, ENABLED, DISABLED)) {
        cases.add(new Case(SYSTEM, ns, labels, inject("true"), null, Result.UNCHANGED, null));
        cases.add(new Case(SYSTEM, ns, labels, inject("yes"), null, Result.UNCHANGED, null));
      }
      cases.add(new Case(SYSTEM, ns, ENABLED, plain(Map.of()), null, Result.UNCHANGED, null));
    }
    for (Map<String, String> labels : List.of(NO_LABEL, ENABLED, DISABLED)) {
      cases.add(new Case(FALSE, "shop", labels, inject("false"), null, Result.UNCHANGED, null));
    }
    String invalid =
        "annotation conveyor.etl/inject='%s' is not valid: expected \"true\" or \"false\"";
    for (String value : List.of("yes", "True", "", "TRUE", "1", "false ")) {
      cases.add(
          new Case(
              INVALID,
              "shop",
              NO_LABEL,
              inject(value),
              POD_ENTRY,
              Result.REFUSED,
              invalid.formatted(value)));
    }
    cases.add(
        new Case(
            INVALID,
            "shop",
            ENABLED,
            inject("yes"),
            ENABLED_ENTRY,
            Result.REFUSED,
            invalid.formatted("yes")));
    cases.add(
        new Case(
            INVALID,
            "shop",
            DISABLED,
            inject("yes"),
            DISABLED_ENTRY,
            Result.REFUSED,
            invalid.formatted("yes")));
    cases.add(
        new Case(
            TRUE_IN_DISABLED,
            "legacy",
            DISABLED,
            inject("true"),
            DISABLED_ENTRY,
            Result.REFUSED,
            "namespace legacy is labelled conveyor.etl/injection=disabled"));
    cases.add(
        new Case(
            PLAIN_IN_DISABLED, "legacy", DISABLED, plain(Map.of()), null, Result.UNCHANGED, null));
    cases.add(
        new Case(PLAIN_ELSEWHERE, "shop", NO_LABEL, plain(Map.of()), null, Result.UNCHANGED, null));
    cases.add(
        new Case(
            PLAIN_ELSEWHERE,
            "shop",
            Map.of(InjectionKeys.NAMESPACE_INJECTION, "yes"),
            plain(Map.of()),
            null,
            Result.UNCHANGED,
            null));
    cases.add(
        new Case(OPTED_IN, "shop", NO_LABEL, inject("true"), POD_ENTRY, Result.INJECTED, null));
    cases.add(
        new Case(OPTED_IN, "shop", ENABLED, plain(Map.of()), ENABLED_ENTRY, Result.INJECTED, null));
    cases.add(
        new Case(OPTED_IN, "shop", ENABLED, inject("true"), ENABLED_ENTRY, Result.INJECTED, null));
    cases.add(
        new Case(
            ALREADY,
            "shop",
            NO_LABEL,
            Fixtures.rawPod("annotated.expected"),
            POD_ENTRY,
            Result.UNCHANGED,
            null));
    cases.add(
        new Case(
            ALREADY,
            "shop",
            NO_LABEL,
            Fixtures.rawPod("older-injection"),
            POD_ENTRY,
            Result.REPAIRED,
            "already present from an earlier injection"));
    ObjectNode labelOnly = inject("true");
    ((ObjectNode) labelOnly.get("metadata").get("labels"))
        .put(InjectionKeys.INJECTED_LABEL, "true");
    cases.add(new Case(LABEL_ONLY, "shop", NO_LABEL, labelOnly, POD_ENTRY, Result.INJECTED, null));
    ObjectNode labelOnlyInEnabled = plain(Map.of());
    ((ObjectNode) labelOnlyInEnabled.get("metadata").get("labels"))
        .put(InjectionKeys.INJECTED_LABEL, "true");
    cases.add(
        new Case(
            LABEL_ONLY, "shop", ENABLED, labelOnlyInEnabled, ENABLED_ENTRY, Result.INJECTED, null));
    cases.add(
        new Case(
            HOST_NETWORK,
            "shop",
            NO_LABEL,
            Fixtures.rawPod("host-network"),
            POD_ENTRY,
            Result.UNCHANGED,
            "hostNetwork"));
    cases.add(
        new Case(
            BAD_OVERRIDE,
            "shop",
            NO_LABEL,
            plain(
                Map.of(
                    InjectionKeys.INJECT,
                    "true",
                    InjectionKeys.MEMORY_LIMIT,
                    "256MB",
                    InjectionKeys.GRPC_PORT,
                    "9096")),
            POD_ENTRY,
            Result.REFUSED,
            "conveyor.etl/sidecar-memory-limit='256MB'"));
    return cases;
  }

  static Stream<Arguments> table() {
    return cases().stream().map(c -> Arguments.of(c));
  }

  @BeforeAll
  static void start() {
    apiServer =
        new WebhookDispatch(
            RenderedManifests.one(
                RenderedManifests.render(),
                "MutatingWebhookConfiguration",
                "conveyor-sidecar-injector"));
    app = Fixtures.startInMemoryApp();
    await().atMost(Duration.ofSeconds(30)).until(app::isReady);
    client =
        TlsClients.client(
            TlsClients.trusting(app.certificates().served().orElseThrow().trustBundle()));
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void whatTheUserGets(Case c) {
    List<Decision> decisions =
        apiServer.decide(
            WebhookDispatch.Request.createPod(c.namespace(), c.namespaceLabels(), c.pod()));
    List<Decision> called = decisions.stream().filter(d -> !(d instanceof Decision.Skip)).toList();
    assertThat(called).as("entries that call or reject: %s", decisions).hasSizeLessThanOrEqualTo(1);

    if (c.entry() == null) {
      assertThat(called).as("the API server calls no webhook: %s", decisions).isEmpty();
      assertThat(c.result()).isEqualTo(Result.UNCHANGED);
      return;
    }
    assertThat(called)
        .as("the API server calls %s: %s", c.entry(), decisions)
        .singleElement()
        .isInstanceOf(Decision.Call.class)
        .extracting(Decision::webhook)
        .isEqualTo(c.entry());
    String path = ((Decision.Call) called.get(0)).path();

    HttpResponse<String> http =
        TlsClients.post(
            client,
            app.httpsPort(),
            path,
            Fixtures.bytes(Fixtures.review(c.pod(), c.namespace(), false)));
    assertThat(http.statusCode()).as(http.body()).isEqualTo(200);
    JsonNode response =
        Fixtures.parse(http.body().getBytes(StandardCharsets.UTF_8)).path("response");
    List<String> warnings = new ArrayList<>();
    response.path("warnings").forEach(w -> warnings.add(w.asText()));

    switch (c.result()) {
      case REFUSED -> {
        assertThat(response.path("allowed").asBoolean()).as("refused: %s", response).isFalse();
        assertThat(response.path("status").path("message").asText()).contains(c.text());
      }
      case UNCHANGED -> {
        assertThat(response.path("allowed").asBoolean()).as(response.toString()).isTrue();
        assertThat(response.has("patch")).as("no patch: %s", response).isFalse();
        if (c.text() == null) {
          assertThat(warnings).isEmpty();
        } else {
          assertThat(warnings).anySatisfy(w -> assertThat(w).contains(c.text()));
        }
      }
      case INJECTED, REPAIRED -> {
        assertThat(response.path("allowed").asBoolean()).as(response.toString()).isTrue();
        JsonNode patch =
            Fixtures.parse(Base64.getDecoder().decode(response.path("patch").asText()));
        JsonNode created = JsonPatch.apply(patch, c.pod());
        assertThat(created.path("spec").path("initContainers").findValuesAsText("name"))
            .as("the created pod has the sidecar")
            .contains(InjectionKeys.SIDECAR_CONTAINER);
        if (c.result() == Result.REPAIRED) {
          assertThat(warnings).anySatisfy(w -> assertThat(w).contains(c.text()));
        } else {
          assertThat(c.pod().path("spec").path("initContainers").findValuesAsText("name"))
              .as("the pod had no sidecar before")
              .doesNotContain(InjectionKeys.SIDECAR_CONTAINER);
          assertThat(
                  created
                      .path("metadata")
                      .path("labels")
                      .path(InjectionKeys.INJECTED_LABEL)
                      .asText())
              .isEqualTo("true");
        }
      }
    }
  }

  @Test
  void everyRowOfTheReadmeTableHasCasesAndEveryCaseARow() throws IOException {
    List<String> rows = readmeRows();
    Map<String, List<String>> rowsByPhrase = new LinkedHashMap<>();
    for (Case c : cases()) {
      rowsByPhrase.computeIfAbsent(
          c.row(), phrase -> rows.stream().filter(r -> r.contains(phrase)).toList());
    }
    rowsByPhrase.forEach(
        (phrase, matched) ->
            assertThat(matched).as("README rows naming \"%s\"", phrase).hasSize(1));
    Map<String, String> covered = new HashMap<>();
    rowsByPhrase.forEach((phrase, matched) -> covered.put(matched.get(0), phrase));
    assertThat(rows)
        .as("README rows without a case")
        .allSatisfy(r -> assertThat(covered).containsKey(r));
  }

  /** The rows of the table under "What a pod gets", whole lines. */
  private static List<String> readmeRows() throws IOException {
    String readme = Files.readString(README);
    String section = readme.substring(readme.indexOf("## What a pod gets"));
    section = section.substring(0, section.indexOf("An injected pod gets:"));
    return section
        .lines()
        .filter(l -> l.startsWith("| "))
        .filter(l -> !l.startsWith("| situation") && !l.startsWith("| ---"))
        .toList();
  }
}

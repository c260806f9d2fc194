package io.conveyor.webhook.admission;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.conveyor.webhook.mutation.NamespaceInjection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code POST /mutate} and {@code POST /mutate/namespace-enabled}: the HTTP edge of the webhook.
 *
 * <p>The API server calls the second path for pods of namespaces labelled {@code
 * conveyor.etl/injection=enabled}, and the third for pods that ask for the sidecar in namespaces
 * labelled {@code disabled} (separate webhook entries with those namespaceSelectors), so the
 * webhook learns the namespace's choice without reading namespaces. Requests that are not an
 * AdmissionReview get a 4xx with a one-line message, never a stack trace; the body is bounded.
 */
public final class AdmissionHttpHandler implements HttpHandler {

  public static final String PATH = "/mutate";
  public static final String NAMESPACE_ENABLED_PATH = "/mutate/namespace-enabled";
  public static final String NAMESPACE_DISABLED_PATH = "/mutate/namespace-disabled";

  private static final Logger log = LoggerFactory.getLogger(AdmissionHttpHandler.class);

  private final AdmissionReviewCodec codec;
  private final PodAdmissionHandler handler;
  private final AdmissionMetrics metrics;
  private final long maxBodyBytes;

  public AdmissionHttpHandler(
      AdmissionReviewCodec codec,
      PodAdmissionHandler handler,
      AdmissionMetrics metrics,
      long maxBodyBytes) {
    this.codec = codec;
    this.handler = handler;
    this.metrics = metrics;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    String outcome = "error";
    boolean dryRun = false;
    try {
      String path = exchange.getRequestURI().getPath();
      NamespaceInjection namespaceInjection;
      if (PATH.equals(path)) {
        namespaceInjection = NamespaceInjection.UNSET;
      } else if (NAMESPACE_ENABLED_PATH.equals(path)) {
        namespaceInjection = NamespaceInjection.ENABLED;
      } else if (NAMESPACE_DISABLED_PATH.equals(path)) {
        namespaceInjection = NamespaceInjection.DISABLED;
      } else {
        outcome = "not-found";
        plain(
            exchange,
            404,
            "no such path: "
                + path
                + " (POST "
                + PATH
                + ", "
                + NAMESPACE_ENABLED_PATH
                + " or "
                + NAMESPACE_DISABLED_PATH
                + ")");
        return;
      }
      if (!"POST".equals(exchange.getRequestMethod())) {
        outcome = "bad-request";
        exchange.getResponseHeaders().set("Allow", "POST");
        plain(exchange, 405, "use POST with an admission.k8s.io/v1 AdmissionReview");
        return;
      }
      String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
      if (contentType != null && !contentType.toLowerCase(Locale.ROOT).contains("json")) {
        outcome = "bad-request";
        plain(exchange, 415, "expected Content-Type application/json, got " + contentType);
        return;
      }
      byte[] body = readBounded(exchange);
      if (body == null) {
        outcome = "too-large";
        drainBounded(exchange);
        plain(exchange, 413, "the request body is larger than " + maxBodyBytes + " bytes");
        return;
      }
      ParsedRequest request;
      try {
        request = codec.parse(body);
      } catch (BadAdmissionRequestException e) {
        outcome = "bad-request";
        plain(exchange, 400, e.getMessage());
        return;
      }
      dryRun = request.dryRun();
      MDC.put("admission", request.uid());
      PodAdmissionHandler.Result result;
      try {
        result = handler.handle(request, namespaceInjection);
      } catch (BadAdmissionRequestException e) {
        outcome = "bad-request";
        plain(exchange, 400, e.getMessage());
        return;
      }
      outcome = result.outcome();
      respond(exchange, 200, "application/json", codec.write(result.response()));
    } catch (IOException e) {
      outcome = "io-error";
      log.debug("connection failed while answering: {}", e.toString());
      throw e;
    } catch (RuntimeException e) {
      outcome = "error";
      log.error("internal error while answering an admission request", e);
      plain(exchange, 500, "internal error in the Conveyor webhook; see its logs");
    } finally {
      metrics.request(outcome, dryRun, Duration.ofNanos(System.nanoTime() - start));
      MDC.remove("admission");
      exchange.close();
    }
  }

  /** The body, or null when it is larger than allowed. */
  private byte[] readBounded(HttpExchange exchange) throws IOException {
    String declared = exchange.getRequestHeaders().getFirst("Content-Length");
    if (declared != null) {
      try {
        if (Long.parseLong(declared.strip()) > maxBodyBytes) {
          return null;
        }
      } catch (NumberFormatException e) {
        return null;
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    byte[] buffer = new byte[8192];
    try (InputStream in = exchange.getRequestBody()) {
      int n;
      while ((n = in.read(buffer)) != -1) {
        if (out.size() + n > maxBodyBytes) {
          return null;
        }
        out.write(buffer, 0, n);
      }
    }
    return out.toByteArray();
  }

  /**
   * Reads and discards what is left of an oversized body, up to a few times the limit, so that the
   * client — still sending — reads the 413 instead of a reset connection. Past that, the connection
   * is simply closed.
   */
  private void drainBounded(HttpExchange exchange) {
    long budget = maxBodyBytes * 4;
    byte[] buffer = new byte[8192];
    try {
      InputStream in = exchange.getRequestBody();
      int n;
      while (budget > 0 && (n = in.read(buffer)) != -1) {
        budget -= n;
      }
    } catch (IOException e) {
      log.debug("while discarding an oversized body: {}", e.toString());
    }
  }

  private static void plain(HttpExchange exchange, int status, String message) throws IOException {
    respond(
        exchange,
        status,
        "text/plain; charset=utf-8",
        (message + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static void respond(HttpExchange exchange, int status, String contentType, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}

package io.conveyor.examples.sink;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.conveyor.common.http.AdminHttpServer;
import io.conveyor.examples.support.Json;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * {@code GET /stats} of the demo sink, as JSON. Query parameters, all optional:
 *
 * <ul>
 *   <li>{@code sent=N}: the source sent sequences 0..N-1 per partition; adds {@code expected}
 *       (those DemoTransform's rule does not filter), {@code delivered_expected}, {@code lost},
 *       {@code filtered_received} and {@code beyond_sent}
 *   <li>{@code source=ID}, {@code partition=P}: only these partitions (default: all)
 *   <li>{@code filter_period=K}: the transform's FILTER_PERIOD, if it differs from the sink's
 * </ul>
 *
 * <p>{@code POST /stats/reset} forgets every count (see {@link #resetHandler}).
 */
public final class SinkStatsHandler implements HttpHandler {

  private final DemoSink sink;

  public SinkStatsHandler(DemoSink sink) {
    this.sink = sink;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!"GET".equals(exchange.getRequestMethod())) {
      AdminHttpServer.respond(exchange, 405, "text/plain; charset=utf-8", "use GET\n");
      return;
    }
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    OptionalLong sent;
    OptionalInt partition;
    int filterPeriod;
    try {
      sent =
          query.containsKey("sent")
              ? OptionalLong.of(nonNegative(query, "sent"))
              : OptionalLong.empty();
      partition =
          query.containsKey("partition")
              ? OptionalInt.of((int) Math.min(Integer.MAX_VALUE, nonNegative(query, "partition")))
              : OptionalInt.empty();
      filterPeriod =
          query.containsKey("filter_period")
              ? (int) Math.min(Integer.MAX_VALUE, nonNegative(query, "filter_period"))
              : sink.settings().filterPeriod();
    } catch (IllegalArgumentException e) {
      AdminHttpServer.respond(exchange, 400, "text/plain; charset=utf-8", e.getMessage() + "\n");
      return;
    }
    Optional<String> source = Optional.ofNullable(query.get("source"));
    AdminHttpServer.respond(
        exchange, 200, "application/json", json(sent, source, partition, filterPeriod) + "\n");
  }

  /** The stats document; public so that tests and launchers in the same JVM can skip HTTP. */
  public String json(
      OptionalLong sent, Optional<String> source, OptionalInt partition, int filterPeriod) {
    SequenceLedger.Report report =
        sink.ledger().report(sent.orElse(0), filterPeriod, source, partition);
    StringBuilder out = new StringBuilder(512);
    out.append("{\"sink\":")
        .append(Json.string(sink.settings().name()))
        .append(",\"batches\":")
        .append(sink.batches())
        .append(",\"writes\":")
        .append(sink.writes())
        .append(",\"delivered\":")
        .append(report.delivered())
        .append(",\"duplicates\":")
        .append(report.duplicates())
        .append(",\"unidentified\":")
        .append(sink.unidentified())
        .append(",\"injected_failures\":")
        .append(sink.faults().injectedFailures())
        .append(",\"injected_rejects\":")
        .append(sink.faults().injectedRejects())
        .append(",\"first_write_ms\":")
        .append(sink.firstWriteMillis())
        .append(",\"last_write_ms\":")
        .append(sink.lastWriteMillis())
        .append(",\"filter_period\":")
        .append(filterPeriod);
    if (sent.isPresent()) {
      out.append(",\"sent\":")
          .append(report.sent())
          .append(",\"expected\":")
          .append(report.expected())
          .append(",\"delivered_expected\":")
          .append(report.deliveredExpected())
          .append(",\"lost\":")
          .append(report.lost())
          .append(",\"filtered_received\":")
          .append(report.filteredReceived())
          .append(",\"beyond_sent\":")
          .append(report.beyondSent());
    }
    out.append(",\"partitions\":[");
    boolean first = true;
    for (SequenceLedger.PartitionCounts p : sink.ledger().counts()) {
      if (source.isPresent() && !source.get().equals(p.sourceId())
          || partition.isPresent() && partition.getAsInt() != p.partition()) {
        continue;
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      out.append("{\"source_id\":")
          .append(Json.string(p.sourceId()))
          .append(",\"partition\":")
          .append(p.partition())
          .append(",\"delivered\":")
          .append(p.distinct())
          .append(",\"duplicates\":")
          .append(p.duplicates())
          .append(",\"negative\":")
          .append(p.negative())
          .append(",\"min_sequence\":")
          .append(p.minSequence())
          .append(",\"max_sequence\":")
          .append(p.maxSequence())
          .append('}');
    }
    return out.append("]}").toString();
  }

  /** {@code POST /stats/reset}: forgets every count and answers 204. */
  public HttpHandler resetHandler() {
    return exchange -> {
      if (!"POST".equals(exchange.getRequestMethod())) {
        AdminHttpServer.respond(exchange, 405, "text/plain; charset=utf-8", "use POST\n");
        return;
      }
      sink.reset();
      AdminHttpServer.respond(exchange, 204, "text/plain; charset=utf-8", "");
    };
  }

  private static long nonNegative(Map<String, String> query, String name) {
    String value = query.get(name);
    try {
      long parsed = Long.parseLong(value);
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + "='" + value + "' is not a non-negative integer");
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> params = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return params;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      params.put(key, value);
    }
    return params;
  }
}

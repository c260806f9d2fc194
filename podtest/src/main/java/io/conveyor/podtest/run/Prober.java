package io.conveyor.podtest.run;

import io.conveyor.podtest.spec.ProbePlan;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One probe attempt as the kubelet makes it, against the pod IP: HTTP(S) GET with a 2xx or 3xx
 * status (HTTPS without verifying the certificate, like the kubelet), a TCP connect, or a gRPC
 * health check answering SERVING. Each attempt is bounded by the probe's timeoutSeconds.
 */
final class Prober {

  private static final SSLContext TRUST_ALL = trustAll();

  private Prober() {}

  /** Whether the probe succeeded; {@code why} gets a one-line reason when it did not. */
  static boolean probe(ProbePlan probe, String ip, StringBuilder why) {
    int timeout = (int) probe.timeout().toMillis();
    try {
      return switch (probe.kind()) {
        case HTTP, HTTPS -> http(probe, ip, timeout, why);
        case TCP -> tcp(probe.port(), ip, timeout);
        case GRPC -> grpc(probe, ip, timeout, why);
      };
    } catch (IOException | RuntimeException e) {
      why.append(e.getClass().getSimpleName()).append(": ").append(e.getMessage());
      return false;
    }
  }

  private static boolean http(ProbePlan probe, String ip, int timeout, StringBuilder why)
      throws IOException {
    String scheme = probe.kind() == ProbePlan.Kind.HTTPS ? "https" : "http";
    URI uri = URI.create(scheme + "://" + ip + ":" + probe.port() + probe.path());
    HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
    if (connection instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(TRUST_ALL.getSocketFactory());
      https.setHostnameVerifier((host, session) -> true);
    }
    connection.setConnectTimeout(timeout);
    connection.setReadTimeout(timeout);
    connection.setInstanceFollowRedirects(false);
    connection.setRequestProperty("User-Agent", "kube-probe/podtest");
    try {
      int status = connection.getResponseCode();
      try (InputStream body =
          status < 400 ? connection.getInputStream() : connection.getErrorStream()) {
        if (body != null) {
          body.readNBytes(10 * 1024); // the kubelet reads at most 10 KiB
        }
      }
      if (status >= 200 && status < 400) {
        return true;
      }
      why.append("HTTP probe failed with statuscode: ").append(status);
      return false;
    } finally {
      connection.disconnect();
    }
  }

  private static boolean tcp(int port, String ip, int timeout) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(ip, port), timeout);
      return true;
    }
  }

  private static boolean grpc(ProbePlan probe, String ip, int timeout, StringBuilder why) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(ip, probe.port()).usePlaintext().build();
    try {
      HealthCheckResponse response =
          HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeout, TimeUnit.MILLISECONDS)
              .check(HealthCheckRequest.newBuilder().setService(probe.grpcService()).build());
      if (response.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
        return true;
      }
      why.append("gRPC health status ").append(response.getStatus());
      return false;
    } finally {
      channel.shutdownNow();
    }
  }

  private static SSLContext trustAll() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          new SecureRandom());
      return context;
    } catch (Exception e) {
      throw new IllegalStateException("no TLS context for HTTPS probes", e);
    }
  }
}

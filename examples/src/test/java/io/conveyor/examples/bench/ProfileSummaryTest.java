package io.conveyor.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileSummaryTest {

  @TempDir Path dir;

  @Test
  void eachSampleCountsOnceInTheFirstCategoryItsStackMatches() throws Exception {
    Path profile = dir.resolve("pod-a.collapsed");
    Files.writeString(
        profile,
        String.join(
            "\n",
            // BoringSSL's AES-GCM under Netty's SslHandler: TLS, not HTTP/2.
            "java/lang/Thread.run;io/grpc/netty/shaded/io/netty/handler/ssl/SslHandler.wrap;"
                + "bssl::SSLAEADContext::SealScatter;aes_gcm_enc_update_vaes_avx2 7",
            // A read() made by a discovery probe: discovery, whatever its leaf.
            "java/lang/Thread.run;io/conveyor/sidecar/discovery/PortProber.probe;__GI_read 5",
            // HPACK under the HTTP/2 codec.
            "java/lang/Thread.run;io/grpc/netty/shaded/io/netty/handler/codec/http2/"
                + "DefaultHttp2FrameReader.readFrame;io/grpc/netty/shaded/io/netty/handler/codec/"
                + "http2/HpackDecoder.decode 3",
            // The JIT compiling data-plane code is the JIT's.
            "thread_native_entry;CompileBroker::compiler_thread_loop;"
                + "io/conveyor/sidecar/dataplane/ForwardCall.run 2",
            "start_thread;something_else 1",
            "not a stack line"));

    Map<String, Long> samples = ProfileSummary.summarize(profile);

    assertThat(samples)
        .containsEntry("tls: boringssl crypto and records", 7L)
        .containsEntry("discovery (port scans)", 5L)
        .containsEntry("http/2 framing (netty)", 3L)
        .containsEntry("jit compiler", 2L)
        .containsEntry("other", 1L)
        .containsEntry("system calls", 0L)
        .containsEntry(ProfileSummary.UNREADABLE, 1L);
    assertThat(ProfileSummary.render("pod-a.collapsed", samples))
        .startsWith("profile pod-a.collapsed: 18 samples")
        .contains("(1 lines were not collapsed stacks)")
        .doesNotContain("unreadable lines")
        .contains(" 38.9%  tls: boringssl crypto and records");
  }
}

package io.conveyor.examples.bench.mesh;

import java.nio.file.Path;

/**
 * A proxy's TLS material as HAProxy reads it.
 *
 * @param caFile the root every peer's certificate must chain to (PEM)
 * @param identityFile the proxy's own workload certificate, the root after it, then its private key
 *     (PEM, in one file: HAProxy's {@code crt} wants them together)
 */
public record MeshTlsFiles(Path caFile, Path identityFile) {}

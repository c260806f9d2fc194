package io.conveyor.sidecar.routing;

import io.conveyor.etl.v1.ServiceType;

/**
 * A Conveyor service of this sidecar's own pod, found by discovery.
 *
 * @param endpoint loopback {@code host:port} the sidecar calls it at
 * @param maxBatchSize the service's own limit from Describe; 0 for none
 */
public record LocalService(String name, ServiceType type, String endpoint, int maxBatchSize) {}

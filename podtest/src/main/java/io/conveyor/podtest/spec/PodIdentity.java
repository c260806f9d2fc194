package io.conveyor.podtest.spec;

import java.nio.file.Path;

/**
 * What the API server and the kubelet give a pod before it runs: its name (chosen from
 * generateName), namespace, uid, IP and the network namespace its containers join.
 */
public record PodIdentity(String name, String namespace, String uid, String ip, Path netns) {}

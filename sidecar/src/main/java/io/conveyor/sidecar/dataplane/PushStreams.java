package io.conveyor.sidecar.dataplane;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open push streams, so that credits can be given back to all of them and they can be ended.
 */
final class PushStreams {

  private final Set<PushStream> open = ConcurrentHashMap.newKeySet();

  void add(PushStream stream) {
    open.add(stream);
  }

  void remove(PushStream stream) {
    open.remove(stream);
  }

  /** The streams open now (a copy). */
  List<PushStream> open() {
    return List.copyOf(open);
  }

  int size() {
    return open.size();
  }

  void relieve() {
    open.forEach(PushStream::relieve);
  }

  void shutdownAll() {
    open.forEach(PushStream::shutdown);
  }
}

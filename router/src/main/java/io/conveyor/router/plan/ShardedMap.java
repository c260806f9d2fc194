package io.conveyor.router.plan;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An immutable map by sidecar id whose updates copy only the shards they touch. A plan derived from
 * the previous one shares every untouched shard with it, so a registration that changes a few
 * sidecars' entries costs a few copies of a 1024th of the fleet, not a copy of the whole fleet
 * (which a storm of registrations would pay once per registration, quadratic in all).
 *
 * <p>Keys are spread over the shards by the top bits of a multiplicative hash of their string hash,
 * so that the keys of one shard still spread over the buckets of its {@link HashMap}.
 */
final class ShardedMap<V> {

  private static final int BITS = 10;
  private static final int SHARDS = 1 << BITS;

  @SuppressWarnings("rawtypes")
  private static final ShardedMap EMPTY = new ShardedMap<>(new HashMap[SHARDS], 0);

  /** Null for an empty shard; a shard is never changed once its map is built. */
  private final HashMap<String, V>[] shards;

  private final int size;

  private ShardedMap(HashMap<String, V>[] shards, int size) {
    this.shards = shards;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  static <V> ShardedMap<V> empty() {
    return EMPTY;
  }

  private static int shard(String key) {
    int h = key.hashCode();
    return ((h ^ (h >>> 16)) * 0x9E3779B9) >>> (32 - BITS);
  }

  V get(String key) {
    HashMap<String, V> shard = shards[shard(key)];
    return shard == null ? null : shard.get(key);
  }

  boolean containsKey(String key) {
    HashMap<String, V> shard = shards[shard(key)];
    return shard != null && shard.containsKey(key);
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Every entry, in no particular order. */
  void forEach(BiConsumer<? super String, ? super V> action) {
    for (HashMap<String, V> shard : shards) {
      if (shard != null) {
        shard.forEach(action);
      }
    }
  }

  Builder<V> toBuilder() {
    return new Builder<>(this);
  }

  /**
   * Changes to a map, copying a shard on its first change (and the table of shards on the first
   * change at all: a builder that changed nothing builds the map it came from). Not thread-safe;
   * built once.
   */
  static final class Builder<V> {
    private final ShardedMap<V> from;
    private HashMap<String, V>[] shards;
    private boolean[] copied;
    private int size;

    private Builder(ShardedMap<V> from) {
      this.from = from;
      this.size = from.size;
    }

    V get(String key) {
      HashMap<String, V> shard = (shards == null ? from.shards : shards)[shard(key)];
      return shard == null ? null : shard.get(key);
    }

    void put(String key, V value) {
      if (writable(shard(key)).put(key, value) == null) {
        size++;
      }
    }

    void remove(String key) {
      int index = shard(key);
      HashMap<String, V> shard = (shards == null ? from.shards : shards)[index];
      if (shard == null || !shard.containsKey(key)) {
        return;
      }
      writable(index).remove(key);
      size--;
    }

    ShardedMap<V> build() {
      if (shards == null) {
        return from;
      }
      for (int i = 0; i < SHARDS; i++) {
        if (copied[i] && shards[i].isEmpty()) {
          shards[i] = null;
        }
      }
      return new ShardedMap<>(shards, size);
    }

    private Map<String, V> writable(int index) {
      if (shards == null) {
        shards = Arrays.copyOf(from.shards, SHARDS);
        copied = new boolean[SHARDS];
      }
      if (!copied[index]) {
        HashMap<String, V> current = shards[index];
        shards[index] = current == null ? new HashMap<>() : new HashMap<>(current);
        copied[index] = true;
      }
      return shards[index];
    }
  }
}

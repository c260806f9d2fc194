package io.conveyor.router.plan;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An immutable map by sidecar id whose updates copy only the shards they touch. A plan derived from
 * the previous one shares every untouched shard with it, so a registration that changes a few
 * sidecars' entries costs a few copies of about {@value #PER_SHARD} entries each, not a copy of the
 * whole fleet (which a storm of registrations would pay once per registration, quadratic in all).
 *
 * <p>The number of shards follows the size (a power of two, about one per {@value #PER_SHARD}
 * entries, at most {@value #MAX_SHARDS}), so that the many small maps of many small pipelines cost
 * no more than plain maps; when a map outgrows its shards, or shrinks well below them, the build
 * that crosses the line spreads the entries again (doubling: a constant cost per entry added). Keys
 * are spread over the shards by the top bits of a multiplicative hash of their string hash, so that
 * the keys of one shard still spread over the buckets of its {@link HashMap}.
 */
final class ShardedMap<V> {

  private static final int PER_SHARD = 16;
  private static final int MAX_BITS = 10;
  private static final int MAX_SHARDS = 1 << MAX_BITS;

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final ShardedMap EMPTY = new ShardedMap<>(new HashMap[1], 0, 0);

  /** Null for an empty shard; a shard is never changed once its map is built. */
  private final HashMap<String, V>[] shards;

  private final int bits;
  private final int size;

  private ShardedMap(HashMap<String, V>[] shards, int bits, int size) {
    this.shards = shards;
    this.bits = bits;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  static <V> ShardedMap<V> empty() {
    return EMPTY;
  }

  private static int shard(String key, int bits) {
    if (bits == 0) {
      return 0;
    }
    int h = key.hashCode();
    return ((h ^ (h >>> 16)) * 0x9E3779B9) >>> (32 - bits);
  }

  /** The shard bits for a map of {@code size} entries. */
  private static int bitsFor(int size) {
    int shards = Math.max(1, size / PER_SHARD);
    return Math.min(MAX_BITS, 32 - Integer.numberOfLeadingZeros(shards - 1));
  }

  V get(String key) {
    HashMap<String, V> shard = shards[shard(key, bits)];
    return shard == null ? null : shard.get(key);
  }

  boolean containsKey(String key) {
    HashMap<String, V> shard = shards[shard(key, bits)];
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
      HashMap<String, V> shard = table()[shard(key, from.bits)];
      return shard == null ? null : shard.get(key);
    }

    void put(String key, V value) {
      if (writable(shard(key, from.bits)).put(key, value) == null) {
        size++;
      }
    }

    void remove(String key) {
      int index = shard(key, from.bits);
      HashMap<String, V> shard = table()[index];
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
      if (size == 0) {
        return empty();
      }
      int bits = bitsFor(size);
      if (bits > from.bits || bits + 2 < from.bits) {
        return respread(bits);
      }
      for (int i = 0; i < shards.length; i++) {
        if (copied[i] && shards[i].isEmpty()) {
          shards[i] = null;
        }
      }
      return new ShardedMap<>(shards, from.bits, size);
    }

    private ShardedMap<V> respread(int bits) {
      @SuppressWarnings("unchecked")
      HashMap<String, V>[] spread = new HashMap[1 << bits];
      for (HashMap<String, V> shard : shards) {
        if (shard == null) {
          continue;
        }
        shard.forEach(
            (key, value) -> {
              int index = shard(key, bits);
              if (spread[index] == null) {
                spread[index] = new HashMap<>();
              }
              spread[index].put(key, value);
            });
      }
      return new ShardedMap<>(spread, bits, size);
    }

    private HashMap<String, V>[] table() {
      return shards == null ? from.shards : shards;
    }

    private Map<String, V> writable(int index) {
      if (shards == null) {
        shards = Arrays.copyOf(from.shards, from.shards.length);
        copied = new boolean[shards.length];
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
